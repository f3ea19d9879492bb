// Compile-only stub. Written from google-ai-edge/LiteRT at tag v2.2.0 (the pinned com.google.ai.edge.litert:litert 2.2.0),
// litert/kotlin/src/main/kotlin/com/google/ai/edge/litert/Model.kt: `class CompiledModel private constructor(...) : JniHandle(handle)`;
// `@Throws @JvmOverloads @JvmStatic fun create(filePath: String, options: Options = Options.CPU,
// optionalEnv: Environment? = null)`; `@JvmOverloads fun createInputBuffers(signatureIndex: Int = 0)` (and outputs);
// `@JvmOverloads fun run(inputs, outputs, signatureIndex: Int = 0)`; `class Options constructor(accelerators:
// Set<Accelerator>)` with `constructor(vararg accelerators: Accelerator)` and `var cpuOptions: CpuOptions?`;
// `data class CpuOptions constructor(numThreads: Int? = null, xnnPackFlags: Int? = null,
// xnnPackWeightCachePath: String? = null)` (no @JvmOverloads: Java sees the three-argument constructor).
// The Kotlin API has no isFullyAccelerated() (only the C/C++ APIs do: litert/c/litert_compiled_model.h), and
// createFromFile turns an NPU-only request into {NPU, CPU}.
package com.google.ai.edge.litert;

import java.util.List;
import java.util.Set;

public final class CompiledModel extends JniHandle {
    private CompiledModel() {}

    public static CompiledModel create(String filePath, Options options, Environment optionalEnv) throws LiteRtException {
        return null;
    }

    public List<TensorBuffer> createInputBuffers() throws LiteRtException { return null; }

    public List<TensorBuffer> createOutputBuffers() throws LiteRtException { return null; }

    public void run(List<TensorBuffer> inputs, List<TensorBuffer> outputs) throws LiteRtException {}

    public static final class Options {
        public Options(Set<Accelerator> accelerators) {}

        public Options(Accelerator... accelerators) {}

        public CpuOptions getCpuOptions() { return null; }

        public void setCpuOptions(CpuOptions cpuOptions) {}
    }

    public static final class CpuOptions {
        public CpuOptions(Integer numThreads, Integer xnnPackFlags, String xnnPackWeightCachePath) {}
    }
}
