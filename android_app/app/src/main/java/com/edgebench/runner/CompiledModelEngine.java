package com.edgebench.runner;

import com.edgebench.runner.core.Accelerators;
import com.edgebench.runner.core.CellKey;
import com.edgebench.runner.core.Engine;
import com.edgebench.runner.core.ModelEngine;
import com.edgebench.runner.core.ModelIo;
import com.edgebench.runner.core.ModelOps;
import com.edgebench.runner.core.Quantization;
import com.google.ai.edge.litert.Accelerator;
import com.google.ai.edge.litert.CompiledModel;
import com.google.ai.edge.litert.Environment;
import com.google.ai.edge.litert.LiteRtException;
import com.google.ai.edge.litert.TensorBuffer;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * LiteRT 2.x's CompiledModel with one accelerator. GPU and NPU only when LiteRT's environment offers them,
 * and then only where the result can say how much of the model they run (core/Accelerators.place: a GPU
 * compiled alone, an NPU by the model's dispatch ops); otherwise delegate_unavailable, never a CPU figure
 * under the accelerator's name. Its buffers, one per input and
 * output in the model's order, take and give floats, bytes (int8/uint8) and ints (int32) only.
 */
final class CompiledModelEngine extends ModelEngine {
    private final CompiledModel model;
    private final Environment environment; // closed with the engine, after the model
    private final List<TensorBuffer> inputs;
    private final List<TensorBuffer> outputs;

    private CompiledModelEngine(CompiledModel model, Environment environment, ModelIo io,
            Accelerators.Placement placement) throws LiteRtException {
        super(io, placement); // null on the CPU: the Kotlin API does not say
        this.model = model;
        this.environment = environment;
        this.inputs = model.createInputBuffers();
        this.outputs = model.createOutputBuffers();
    }

    static Engine open(File file, CellKey key, ModelIo io) throws DelegateUnavailable, DelegateFailed {
        refuseTypes(io.inputs, "input");
        refuseTypes(io.outputs, "output");
        Accelerators.Request request = Accelerators.request(key.delegate);
        if (request == null) {
            throw new DelegateUnavailable(key.delegate + " is not an accelerator of the CompiledModel API "
                    + "(cpu = plain kernels exists only through the Interpreter)");
        }
        Accelerator accelerator = Accelerator.valueOf(request.accelerator); // LiteRT's CPU accelerator is XNNPACK
        Environment environment;
        try {
            environment = Environment.create();
        } catch (LiteRtException e) {
            throw new DelegateFailed("LiteRT's environment could not be created: " + e.getMessage(), e);
        }
        CompiledModel[] compiled = new CompiledModel[1];
        try {
            Set<String> available = new HashSet<>();
            for (Accelerator offered : environment.getAvailableAccelerators()) {
                available.add(offered.name());
            }
            String absent = Accelerators.absent(key.delegate, accelerator.name(), available);
            if (absent != null) {
                throw new DelegateUnavailable(absent);
            }
            Accelerators.Placement placement = null;
            if (accelerator == Accelerator.CPU) {
                CompiledModel.Options options = new CompiledModel.Options(Accelerator.CPU);
                options.setCpuOptions(new CompiledModel.CpuOptions(key.threads, null, null));
                compiled[0] = CompiledModel.create(file.getAbsolutePath(), options, environment);
            } else {
                ModelOps.Nodes nodes = accelerator == Accelerator.NPU ? nodes(file) : null;
                Accelerator alone = accelerator;
                placement = Accelerators.place(key.delegate, withCpu -> {
                    CompiledModel.Options options = withCpu
                            ? new CompiledModel.Options(alone, Accelerator.CPU)
                            : new CompiledModel.Options(alone); // GPU alone: LiteRT refuses what it cannot take whole
                    if (request.fp32) {
                        options.setGpuOptions(fp32());
                    }
                    try {
                        compiled[0] = CompiledModel.create(file.getAbsolutePath(), options, environment);
                        return null;
                    } catch (LiteRtException e) {
                        return "LiteRT: " + e.getMessage();
                    }
                }, nodes);
            }
            try {
                return new CompiledModelEngine(compiled[0], environment, io, placement);
            } catch (LiteRtException e) {
                compiled[0].close(); // its buffers could not be made
                throw e;
            }
        } catch (LiteRtException e) {
            environment.close();
            if (accelerator != Accelerator.CPU) {
                throw new DelegateUnavailable(key.delegate + " accelerator could not be created: " + e.getMessage());
            }
            throw new DelegateFailed("CompiledModel could not compile the model: " + e.getMessage(), e);
        } catch (DelegateUnavailable | DelegateFailed e) {
            if (compiled[0] != null) {
                compiled[0].close();
            }
            environment.close();
            throw e;
        }
    }

    /** The GPU held to fp32 (gpu:fp32); every other GPU option left at LiteRT's default. */
    private static CompiledModel.GpuOptions fp32() {
        return new CompiledModel.GpuOptions(null, null, null, CompiledModel.GpuOptions.Precision.FP32, null, null,
                null, null, null, null, null, null, null, null, null);
    }

    /** The main subgraph's nodes and dispatch nodes: what an NPU runs of the model. */
    private static ModelOps.Nodes nodes(File file) throws DelegateFailed {
        try {
            return ModelOps.read(Files.readAllBytes(file.toPath()));
        } catch (IOException | IllegalArgumentException e) {
            throw new DelegateFailed("the model's nodes could not be read: " + e.getMessage(), e);
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
