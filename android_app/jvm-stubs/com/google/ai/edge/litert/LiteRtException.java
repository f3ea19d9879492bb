// Compile-only stub. Written from google-ai-edge/LiteRT at tag v2.2.0 (the pinned com.google.ai.edge.litert:litert 2.2.0),
// litert/kotlin/src/main/kotlin/com/google/ai/edge/litert/LiteRtException.kt: `class LiteRtException(private val status: Status, message: String) : Exception(message)`.
package com.google.ai.edge.litert;

public final class LiteRtException extends Exception {
    private static final long serialVersionUID = 1L;

    private LiteRtException() {}
}
