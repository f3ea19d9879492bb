package org.tensorflow.lite; public interface Tensor { DataType dataType(); int numBytes(); String name(); int[] shape(); QuantizationParams quantizationParams();
class QuantizationParams { public float getScale() { return 0; } public int getZeroPoint() { return 0; } } }
