// Compile-only stub. Written from google-ai-edge/LiteRT at tag v2.2.0 (the pinned com.google.ai.edge.litert:litert 2.2.0),
// litert/kotlin/src/main/kotlin/com/google/ai/edge/litert/Environment.kt: `class Environment private constructor(handle: Long) : JniHandle(handle)`;
// `@JvmOverloads @JvmStatic fun create(options: Map<Option, String> = mapOf())` gives Java create();
// `fun getAvailableAccelerators(): Set<Accelerator>`, both `@Throws(LiteRtException::class)`.
package com.google.ai.edge.litert;

import java.util.Set;

public final class Environment extends JniHandle {
    private Environment() {}

    public static Environment create() throws LiteRtException { return null; }

    public Set<Accelerator> getAvailableAccelerators() throws LiteRtException { return null; }
}
