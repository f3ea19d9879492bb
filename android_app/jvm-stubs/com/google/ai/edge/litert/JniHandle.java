// Compile-only stub. Written from google-ai-edge/LiteRT at tag v2.2.0 (the pinned com.google.ai.edge.litert:litert 2.2.0),
// litert/kotlin/src/main/kotlin/com/google/ai/edge/litert/Common.kt: `abstract class JniHandle internal constructor(internal val handle: Long) : AutoCloseable`,
// `override final fun close()` (no checked exception).
package com.google.ai.edge.litert;

public abstract class JniHandle implements AutoCloseable {
    JniHandle() {}

    @Override
    public final void close() {}
}
