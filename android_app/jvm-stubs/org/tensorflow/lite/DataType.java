package org.tensorflow.lite; public enum DataType { FLOAT32, INT8, UINT8 }
