package org.tensorflow.lite.nnapi; public class NnApiDelegate implements org.tensorflow.lite.Delegate, AutoCloseable { public NnApiDelegate(Options o) {} @Override public void close() {}
public static final class Options { public Options setAcceleratorName(String n) { return this; } public Options setUseNnapiCpu(boolean b) { return this; } } }
