// Compile-only stub. Written from google-ai-edge/LiteRT at tag v2.2.0 (the pinned com.google.ai.edge.litert:litert 2.2.0),
// tflite/java/src/main/java/org/tensorflow/lite/DataType.java (copied unchanged into litert-api). Every constant.
package org.tensorflow.lite;

public enum DataType { FLOAT32, INT32, UINT8, INT64, STRING, BOOL, INT16, INT8 }
