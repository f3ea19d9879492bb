package com.edgebench.runner.core;

/**
 * One loaded model under one delegate or accelerator, with every input and output of its first
 * subgraph. Inputs and outputs are flat floats, one array per tensor in the model's order: the engine
 * quantises and dequantises integer tensors (through {@link Quantization}), as device_runner's do.
 */
public interface Engine extends AutoCloseable {
    /** One sample of every input; InputsDoNotFit when they cannot feed the model. */
    void setInputs(float[][] inputs);

    void invoke();

    float[][] outputs();

    /** Each output tensor's name, in the model's order ("Identity"): numerics say which output differed. */
    java.util.List<String> outputNames();

    /** Each output tensor's shape (batch axis kept): whether an output is a class distribution depends on it. */
    java.util.List<int[]> outputShapes();

    /** Nodes the delegate took, or null where the API does not say (LiteRT's Java APIs do not). */
    CellResult.Coverage coverage();

    /** CompiledModel's own answer, null for the Interpreter. */
    Boolean fullyAccelerated();

    /** For an ok cell: where the model really runs, when the API's own answer would mislead; else "". */
    default String note() {
        return "";
    }

    @Override
    void close();

    /**
     * Opens a model for a cell, its inputs sized for samples of {@code samples}' shapes (one sample's shape per
     * input, {@link InputSet#shapes}) before anything is allocated: a dynamic model's placeholder shape may be one
     * it cannot run at ({@link InputShapes}). The two checked exceptions become the cell's status; InputsDoNotFit
     * stops the sweep, as every cell would fail alike.
     */
    interface Factory {
        Engine open(java.io.File model, CellKey key, java.util.List<int[]> samples)
                throws DelegateUnavailable, DelegateFailed;

        /** The runtime's name and version, for the result's device facts. */
        String runtime(String api);

        String runtimeVersion(String api);
    }

    /** The device or this build has no such delegate / accelerator: a fact, not a failure. */
    final class DelegateUnavailable extends Exception {
        public DelegateUnavailable(String message) {
            super(message);
        }
    }

    /** The input set cannot feed the model (another number of inputs, another size): every cell would fail alike. */
    final class InputsDoNotFit extends IllegalArgumentException {
        public InputsDoNotFit(String message) {
            super(message);
        }
    }

    /** The delegate exists but could not take the model. */
    final class DelegateFailed extends Exception {
        public DelegateFailed(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
