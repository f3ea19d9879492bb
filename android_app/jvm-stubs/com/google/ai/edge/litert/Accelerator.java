// Compile-only stub. Written from google-ai-edge/LiteRT at tag v2.2.0 (the pinned com.google.ai.edge.litert:litert 2.2.0),
// litert/kotlin/src/main/kotlin/com/google/ai/edge/litert/Common.kt: `enum class Accelerator { NONE(0), CPU(1), GPU(2), NPU(3) }`.
package com.google.ai.edge.litert;

public enum Accelerator { NONE, CPU, GPU, NPU }
