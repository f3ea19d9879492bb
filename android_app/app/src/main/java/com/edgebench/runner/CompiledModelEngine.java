package com.edgebench.runner;

import com.edgebench.runner.core.Accelerators;
import com.edgebench.runner.core.CellKey;
import com.edgebench.runner.core.CellResult;
import com.edgebench.runner.core.Engine;
import com.edgebench.runner.core.ModelIo;
import com.edgebench.runner.core.Quantization;
import com.google.ai.edge.litert.Accelerator;
import com.google.ai.edge.litert.CompiledModel;
import com.google.ai.edge.litert.Environment;
import com.google.ai.edge.litert.LiteRtException;
import com.google.ai.edge.litert.TensorBuffer;
import java.io.File;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * LiteRT 2.x's CompiledModel with one accelerator. GPU and NPU are asked for alone, and only when
 * LiteRT's environment offers them: LiteRT adds the CPU to a GPU- or NPU-only request, so a phone
 * without the accelerator would run everything on the CPU while the run reports the accelerator;
 * that phone gives delegate_unavailable instead. Its buffers, one per input and
 * output in the model's order, take and give floats, bytes (int8/uint8) and ints (int32) only.
 */
final class CompiledModelEngine implements Engine {
    private final CompiledModel model;
    private final Environment environment; // closed with the engine, after the model
    private final List<TensorBuffer> inputs;
    private final List<TensorBuffer> outputs;
    private final ModelIo io;

    private CompiledModelEngine(CompiledModel model, Environment environment, ModelIo io) throws LiteRtException {
        this.model = model;
        this.environment = environment;
        this.inputs = model.createInputBuffers();
        this.outputs = model.createOutputBuffers();
        this.io = io;
    }

    static Engine open(File file, CellKey key, ModelIo io) throws DelegateUnavailable, DelegateFailed {
        refuseTypes(io.inputs, "input");
        refuseTypes(io.outputs, "output");
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
        Environment environment;
        try {
            environment = Environment.create();
        } catch (LiteRtException e) {
            throw new DelegateFailed("LiteRT's environment could not be created: " + e.getMessage(), e);
        }
        try {
            Set<String> available = new HashSet<>();
            for (Accelerator offered : environment.getAvailableAccelerators()) {
                available.add(offered.name());
            }
            String absent = Accelerators.absent(key.delegate, accelerator.name(), available);
            if (absent != null) {
                throw new DelegateUnavailable(absent);
            }
            CompiledModel model = CompiledModel.create(file.getAbsolutePath(), options, environment);
            try {
                return new CompiledModelEngine(model, environment, io);
            } catch (LiteRtException e) {
                model.close(); // its buffers could not be made
                throw e;
            }
        } catch (LiteRtException e) {
            environment.close();
            if (accelerator != Accelerator.CPU) {
                throw new DelegateUnavailable(key.delegate + " accelerator could not be created: " + e.getMessage());
            }
            throw new DelegateFailed("CompiledModel could not compile the model: " + e.getMessage(), e);
        } catch (DelegateUnavailable e) {
            environment.close();
            throw e;
        }
    }

    /** CompiledModel's Java buffers take and give float32, int8/uint8 and int32 elements only. */
    private static void refuseTypes(List<Quantization> tensors, String kind) throws DelegateFailed {
        for (int i = 0; i < tensors.size(); i++) {
            Quantization.Type type = tensors.get(i).type;
            if (type == Quantization.Type.INT16 || type == Quantization.Type.INT64) {
                throw new DelegateFailed(kind + " " + i + " is " + type + ", which CompiledModel's Java buffers "
                        + "neither take nor give; use --api interpreter", null);
            }
        }
    }

    @Override
    public void setInputs(float[][] values) {
        io.check(values);
        try {
            for (int i = 0; i < values.length; i++) {
                Quantization q = io.inputs.get(i);
                switch (q.type) {
                    case FLOAT32 -> inputs.get(i).writeFloat(values[i]);
                    case INT32 -> inputs.get(i).writeInt(q.ints(values[i]));
                    default -> inputs.get(i).writeInt8(q.quantize(values[i])); // int8, uint8 (open refuses the rest)
                }
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
    public float[][] outputs() {
        try {
            float[][] values = new float[outputs.size()][];
            for (int j = 0; j < values.length; j++) {
                Quantization q = io.outputs.get(j);
                TensorBuffer buffer = outputs.get(j);
                values[j] = switch (q.type) {
                    case FLOAT32 -> buffer.readFloat();
                    case INT32 -> q.fromInts(buffer.readInt());
                    default -> q.dequantize(buffer.readInt8());
                };
            }
            return values;
        } catch (LiteRtException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public List<String> outputNames() {
        return io.outputNames;
    }

    @Override
    public List<int[]> outputShapes() {
        return io.outputShapes;
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
        environment.close();
    }
}
