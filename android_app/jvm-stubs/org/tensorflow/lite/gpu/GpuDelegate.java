package org.tensorflow.lite.gpu; public class GpuDelegate implements org.tensorflow.lite.Delegate, java.io.Closeable { public GpuDelegate(Options o) {} @Override public void close() {}
public static class Options {} }
