// Compile-only stub. Written from google-ai-edge/LiteRT at tag v2.2.0 (the pinned com.google.ai.edge.litert:litert 2.2.0),
// litert/kotlin/src/main/kotlin/com/google/ai/edge/litert/Model.kt: `class CompiledModel private constructor(...) : JniHandle(handle)`;
// `@Throws @JvmOverloads @JvmStatic fun create(filePath: String, options: Options = Options.CPU,
// optionalEnv: Environment? = null)`; `@JvmOverloads fun createInputBuffers(signatureIndex: Int = 0)` (and outputs);
// `@JvmOverloads fun run(inputs, outputs, signatureIndex: Int = 0)`; `class Options constructor(accelerators:
// Set<Accelerator>)` with `constructor(vararg accelerators: Accelerator)` and `var cpuOptions: CpuOptions?`;
// `data class CpuOptions constructor(numThreads: Int? = null, xnnPackFlags: Int? = null,
// xnnPackWeightCachePath: String? = null)` (no @JvmOverloads: Java sees the three-argument constructor);
// `var gpuOptions: GpuOptions?` and `data class GpuOptions constructor(constantTensorSharing: Boolean?,
// infiniteFloatCapping: Boolean?, allowSrcQuantizedFcConvOps: Boolean?, precision: Precision?, bufferStorageType:
// BufferStorageType?, preferTextureWeights: Boolean?, serializationDir: String?, modelCacheKey: String?,
// serializeProgramCache: Boolean?, serializeExternalTensors: Boolean?, externalTensorsMode: Boolean?,
// externalTensorPattern: String?, backend: Backend?, priority: Priority?, numStepsOfCommandBufferPreparations: Int?)`,
// every one `= null` and no @JvmOverloads: Java sees the fifteen-argument constructor; `enum class Precision
// { DEFAULT(0), FP16(1), FP32(2), FP16_WITH_FP32_ACCUM(3) }`.
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

        public GpuOptions getGpuOptions() { return null; }

        public void setGpuOptions(GpuOptions gpuOptions) {}
    }

    public static final class CpuOptions {
        public CpuOptions(Integer numThreads, Integer xnnPackFlags, String xnnPackWeightCachePath) {}
    }

    public static final class GpuOptions {
        public GpuOptions(Boolean constantTensorSharing, Boolean infiniteFloatCapping, Boolean allowSrcQuantizedFcConvOps,
                Precision precision, BufferStorageType bufferStorageType, Boolean preferTextureWeights,
                String serializationDir, String modelCacheKey, Boolean serializeProgramCache,
                Boolean serializeExternalTensors, Boolean externalTensorsMode, String externalTensorPattern,
                Backend backend, Priority priority, Integer numStepsOfCommandBufferPreparations) {}

        public enum Precision { DEFAULT, FP16, FP32, FP16_WITH_FP32_ACCUM }

        public enum BufferStorageType { DEFAULT, BUFFER, TEXTURE_2D }

        public enum Backend { AUTOMATIC, OPENCL, WEBGPU, OPENGL }

        public enum Priority { DEFAULT, LOW, NORMAL, HIGH }
    }
}
