package com.edgebench.runner.core;

import java.util.Arrays;
import java.util.List;

/**
 * A dynamic model's input sizes, set before LiteRT first allocates it. LiteRT's Java Interpreter allocates in its
 * constructor and its Kotlin CompiledModel has no resize, so the sizes go into a copy of the model instead: each
 * input's placeholder shape (Tensor.shape, which LiteRT allocates for; shape_signature keeps -1 where a dimension
 * is dynamic) becomes the shape the input set feeds, as device_runner resizes before its first allocation.
 */
public final class InputShapes {
    private InputShapes() {}

    /** The shape one sample of {@code sample}'s shape feeds an input of {@code rank} dimensions: a batch axis of 1
     * added when the sample has one dimension fewer (device_runner/inputs.py's batched). */
    public static int[] fed(int[] sample, int rank) {
        if (sample.length != rank - 1) {
            return sample.clone();
        }
        int[] shape = new int[rank];
        shape[0] = 1;
        System.arraycopy(sample, 0, shape, 1, sample.length);
        return shape;
    }

    /**
     * {@code tflite} with each input's placeholder shape set to what one sample of {@code samples} (one sample's
     * shape per input, in the model's order) feeds it; {@code tflite} itself when every input already has it.
     * InputsDoNotFit, naming the input, for a sample of another rank or one that contradicts a fixed dimension.
     */
    public static byte[] apply(byte[] tflite, List<int[]> samples) {
        List<ModelOps.Input> inputs = ModelOps.inputs(tflite);
        if (samples.size() != inputs.size()) {
            throw new Engine.InputsDoNotFit("the model takes " + inputs.size() + " inputs, the input set has "
                    + samples.size());
        }
        byte[] shaped = tflite;
        for (int i = 0; i < inputs.size(); i++) {
            ModelOps.Input input = inputs.get(i);
            int[] shape = fed(samples.get(i), input.declared.length);
            if (!fits(input.declared, shape) || input.shape.length != shape.length) {
                throw new Engine.InputsDoNotFit("input '" + input.name + "' (index " + i + ") takes "
                        + Arrays.toString(input.declared) + ", the input set gives " + Arrays.toString(shape));
            }
            if (Arrays.equals(shape, input.shape)) {
                continue;
            }
            if (shaped == tflite) {
                shaped = tflite.clone(); // the given bytes stay as they are
            }
            for (int d = 0; d < shape.length; d++) {
                int at = input.shapeAt + 4 * d;
                for (int b = 0; b < 4; b++) {
                    shaped[at + b] = (byte) (shape[d] >>> (8 * b)); // little-endian, as every flatbuffer scalar
                }
            }
        }
        return shaped;
    }

    private static boolean fits(int[] declared, int[] shape) {
        if (declared.length != shape.length) {
            return false;
        }
        for (int d = 0; d < shape.length; d++) {
            if (declared[d] >= 0 && declared[d] != shape[d]) {
                return false;
            }
        }
        return true;
    }
}
