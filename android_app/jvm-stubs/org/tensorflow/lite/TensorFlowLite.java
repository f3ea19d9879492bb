// Compile-only stub. Written from google-ai-edge/LiteRT at tag v2.2.0 (the pinned com.google.ai.edge.litert:litert 2.2.0),
// litert/kotlin/src/copied_from_tflite/java/org/tensorflow/lite/TensorFlowLite.java. Only the member the glue uses.
package org.tensorflow.lite;

public final class TensorFlowLite {
    private TensorFlowLite() {}

    public static String runtimeVersion() { return ""; }
}
