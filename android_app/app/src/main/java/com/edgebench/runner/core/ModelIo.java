package com.edgebench.runner.core;

import java.util.List;

/**
 * A model's input and output tensors as the engines feed and read them (subgraph 0, the model's order):
 * element type and quantisation per tensor, the outputs' names and shapes for scoring them.
 */
public final class ModelIo {
    public final List<Quantization> inputs;
    public final List<Quantization> outputs;
    public final List<String> outputNames;
    public final List<int[]> outputShapes;

    public ModelIo(List<Quantization> inputs, List<Quantization> outputs, List<String> outputNames,
            List<int[]> outputShapes) {
        this.inputs = inputs;
        this.outputs = outputs;
        this.outputNames = outputNames;
        this.outputShapes = outputShapes;
    }

    /** IllegalArgumentException when the input set does not give one array per model input. */
    public void check(float[][] sample) {
        if (sample.length != inputs.size()) {
            throw new IllegalArgumentException("the model takes " + inputs.size() + " inputs, the input set gives "
                    + sample.length);
        }
    }
}
