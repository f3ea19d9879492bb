package com.google.ai.edge.litert; public class Environment implements AutoCloseable {
public static Environment create() throws LiteRtException { return null; }
public java.util.Set<Accelerator> getAvailableAccelerators() throws LiteRtException { return null; } @Override public void close() {} }
