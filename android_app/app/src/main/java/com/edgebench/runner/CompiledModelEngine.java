package com.edgebench.runner;

import com.edgebench.runner.core.CellKey;
import com.edgebench.runner.core.CellResult;
import com.edgebench.runner.core.Engine;
import com.edgebench.runner.core.Quantization;
import com.google.ai.edge.litert.Accelerator;
import com.google.ai.edge.litert.CompiledModel;
import com.google.ai.edge.litert.LiteRtException;
import com.google.ai.edge.litert.TensorBuffer;
import java.io.File;
import java.util.List;

/**
 * LiteRT 2.x's CompiledModel with one accelerator. GPU and NPU are asked for alone: with CPU added
 * as a fallback, a phone whose GPU library does not load runs everything on the CPU while the run
 * reports the GPU; alone, that phone gives delegate_unavailable instead.
 */
final class CompiledModelEngine implements Engine {
    private final CompiledModel model;
    private final List<TensorBuffer> inputs;
    private final List<TensorBuffer> outputs;
    private final Quantization in;
    private final Quantization out;

    private CompiledModelEngine(CompiledModel model, Quantization in, Quantization out) throws LiteRtException {
        this.model = model;
        this.inputs = model.createInputBuffers();
        this.outputs = model.createOutputBuffers();
        this.in = in;
        this.out = out;
    }

    static Engine open(File file, CellKey key, Quantization in, Quantization out)
            throws DelegateUnavailable, DelegateFailed {
        Accelerator accelerator;
        switch (key.delegate) {
            case "xnnpack": // LiteRT's CPU accelerator is XNNPACK
                accelerator = Accelerator.CPU;
                break;
            case "gpu":
                accelerator = Accelerator.GPU;
                break;
            case "npu":
                accelerator = Accelerator.NPU;
                break;
            default:
                throw new DelegateUnavailable(key.delegate + " is not an accelerator of the CompiledModel API "
                        + "(cpu = plain kernels exists only through the Interpreter)");
        }
        CompiledModel.Options options = new CompiledModel.Options(accelerator);
        if (accelerator == Accelerator.CPU) {
            options.setCpuOptions(new CompiledModel.CpuOptions(key.threads, null, null));
        }
        try {
            return new CompiledModelEngine(CompiledModel.create(file.getAbsolutePath(), options, null), in, out);
        } catch (LiteRtException e) {
            if (accelerator != Accelerator.CPU) {
                throw new DelegateUnavailable(key.delegate + " accelerator could not be created: " + e.getMessage());
            }
            throw new DelegateFailed("CompiledModel could not compile the model: " + e.getMessage(), e);
        }
    }

    @Override
    public void setInput(float[] values) {
        try {
            if (in.type == Quantization.Type.FLOAT32) {
                inputs.get(0).writeFloat(values);
            } else {
                inputs.get(0).writeInt8(in.quantize(values));
            }
        } catch (LiteRtException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void invoke() {
        try {
            model.run(inputs, outputs);
        } catch (LiteRtException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public float[] output() {
        try {
            TensorBuffer buffer = outputs.get(0);
            return out.type == Quantization.Type.FLOAT32 ? buffer.readFloat() : out.dequantize(buffer.readInt8());
        } catch (LiteRtException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public CellResult.Coverage coverage() {
        return null;
    }

    @Override
    public Boolean fullyAccelerated() {
        return null; // the Kotlin API does not report it
    }

    @Override
    public void close() {
        for (TensorBuffer buffer : inputs) {
            buffer.close();
        }
        for (TensorBuffer buffer : outputs) {
            buffer.close();
        }
        model.close();
    }
}
