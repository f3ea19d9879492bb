package com.edgebench.runner.core;

import java.util.Arrays;
import java.util.List;

/**
 * A model's input and output tensors as the engines feed and read them (subgraph 0, the model's order):
 * element type and quantisation per tensor, the outputs' names and shapes for scoring them.
 */
public final class ModelIo {
    public final List<Quantization> inputs;
    public final List<int[]> inputShapes;
    public final List<Quantization> outputs;
    public final List<String> outputNames;
    public final List<int[]> outputShapes;

    public ModelIo(List<Quantization> inputs, List<int[]> inputShapes, List<Quantization> outputs,
            List<String> outputNames, List<int[]> outputShapes) {
        this.inputs = inputs;
        this.inputShapes = inputShapes;
        this.outputs = outputs;
        this.outputNames = outputNames;
        this.outputShapes = outputShapes;
    }

    /** InputsDoNotFit, naming the input, when one sample of the input set cannot feed the model. */
    public void check(float[][] sample) {
        if (sample.length != inputs.size()) {
            throw new Engine.InputsDoNotFit("the model takes " + inputs.size() + " inputs, the input set has "
                    + sample.length);
        }
        for (int i = 0; i < sample.length; i++) {
            long elements = 1;
            for (int d : inputShapes.get(i)) {
                elements *= d;
            }
            if (sample[i].length != elements) {
                throw new Engine.InputsDoNotFit("input " + i + " takes " + Arrays.toString(inputShapes.get(i)) + " ("
                        + elements + " values), the input set gives " + sample[i].length + " a sample");
            }
        }
    }
}
