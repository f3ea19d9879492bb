package com.google.ai.edge.litert; import java.util.List; public class CompiledModel implements AutoCloseable {
public static CompiledModel create(String path, Options o, Environment env) throws LiteRtException { return null; }
public List<TensorBuffer> createInputBuffers() throws LiteRtException { return null; } public List<TensorBuffer> createOutputBuffers() throws LiteRtException { return null; }
public void run(List<TensorBuffer> in, List<TensorBuffer> out) throws LiteRtException {} @Override public void close() {}
public static final class Options { public Options(Accelerator... a) {} public void setCpuOptions(CpuOptions c) {} }
public static final class CpuOptions { public CpuOptions(Integer threads, Integer flags, String path) {} } }
