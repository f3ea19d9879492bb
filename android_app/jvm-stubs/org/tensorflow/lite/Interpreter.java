package org.tensorflow.lite; public final class Interpreter implements AutoCloseable {
public Interpreter(java.io.File f, Options o) {} public Tensor getInputTensor(int i) { return null; } public Tensor getOutputTensor(int i) { return null; }
public int getInputTensorCount() { return 0; } public int getOutputTensorCount() { return 0; }
public void run(Object in, Object out) {} public void runForMultipleInputsOutputs(Object[] in, java.util.Map<Integer, Object> out) {} @Override public void close() {}
public static class Options { public Options setNumThreads(int n) { return this; } public Options setUseXNNPACK(boolean b) { return this; } public Options addDelegate(Delegate d) { return this; } } }
