// Compile-only stub. Written from google-ai-edge/LiteRT at tag v2.2.0 (the pinned com.google.ai.edge.litert:litert 2.2.0),
// tflite/java/src/main/java/org/tensorflow/lite/Tensor.java (copied unchanged into litert-api: litert/kotlin/BUILD,
// TFLITE_JAVA_SRCS_API). Only the members the glue uses.
package org.tensorflow.lite;

public interface Tensor {
    DataType dataType();

    int[] shape();

    int numBytes();

    QuantizationParams quantizationParams();

    String name();

    class QuantizationParams {
        public float getScale() { return 0; }

        public int getZeroPoint() { return 0; }
    }
}
