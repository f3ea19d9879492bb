// Compile-only stub. Written from google-ai-edge/LiteRT at tag v2.2.0 (the pinned com.google.ai.edge.litert:litert 2.2.0),
// litert/kotlin/src/copied_from_tflite/java/org/tensorflow/lite/Interpreter.java (LiteRT's own copy, which drops
// the delegate members: no addDelegate, no addDelegateFactory) and InterpreterImpl.java / InterpreterApi.java
// there, whose public members Interpreter inherits. Only the members the glue uses.
package org.tensorflow.lite;

import java.io.File;
import java.util.Map;

public final class Interpreter implements AutoCloseable {
    public Interpreter(File modelFile, Options options) {}

    public int getInputTensorCount() { return 0; }

    public Tensor getInputTensor(int inputIndex) { return null; }

    public int getOutputTensorCount() { return 0; }

    public Tensor getOutputTensor(int outputIndex) { return null; }

    public void runForMultipleInputsOutputs(Object[] inputs, Map<Integer, Object> outputs) {}

    @Override
    public void close() {}

    /** Interpreter.Options extends InterpreterImpl.Options extends InterpreterApi.Options: threads, XNNPACK, cancel, runtime. */
    public static class Options {
        public Options() {}

        public Options setNumThreads(int numThreads) { return this; }

        public Options setUseXNNPACK(boolean useXNNPACK) { return this; }
    }
}
