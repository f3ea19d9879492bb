package com.edgebench.runner.core;

/**
 * One loaded model under one delegate or accelerator. Inputs and outputs are floats: the engine
 * quantises and dequantises for integer tensors, as device_runner's engines do.
 */
public interface Engine extends AutoCloseable {
    void setInput(float[] input);

    void invoke();

    float[] output();

    /** Nodes the delegate took, or null where the API does not say (LiteRT's Java APIs do not). */
    CellResult.Coverage coverage();

    /** CompiledModel's own answer, null for the Interpreter. */
    Boolean fullyAccelerated();

    @Override
    void close();

    /** Opens a model for a cell; the two exceptions become the cell's status. */
    interface Factory {
        Engine open(java.io.File model, CellKey key) throws DelegateUnavailable, DelegateFailed;

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

    /** The delegate exists but could not take the model. */
    final class DelegateFailed extends Exception {
        public DelegateFailed(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
