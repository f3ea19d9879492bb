package com.edgebench.runner;

import com.edgebench.runner.core.CellKey;
import com.edgebench.runner.core.Engine;
import com.edgebench.runner.core.ModelEngine;
import com.edgebench.runner.core.ModelIo;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import org.tensorflow.lite.Interpreter;

/**
 * LiteRT 2.x's Interpreter API under XNNPACK or plain CPU kernels: LiteRT's copy of the Interpreter takes no
 * delegate (android_app/README.md), so gpu and npu are the CompiledModel API's and nnapi is benchmark_model's. Every input and
 * output has a direct buffer of its tensor's size; each invoke hands them all to
 * runForMultipleInputsOutputs, which copies in and out as an app does.
 */
final class InterpreterEngine extends ModelEngine {
    private final Interpreter interpreter;
    private final ByteBuffer[] inputs;
    private final ByteBuffer[] outputs;
    private final Map<Integer, Object> outputMap = new HashMap<>();

    private InterpreterEngine(Interpreter interpreter, ModelIo io) {
        super(io, null); // the Java API does not say which nodes run where
        this.interpreter = interpreter;
        inputs = new ByteBuffer[io.inputs.size()];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = direct(interpreter.getInputTensor(i).numBytes());
        }
        outputs = new ByteBuffer[io.outputs.size()];
        for (int j = 0; j < outputs.length; j++) {
            outputs[j] = direct(interpreter.getOutputTensor(j).numBytes());
            outputMap.put(j, outputs[j]);
        }
    }

    private static ByteBuffer direct(int bytes) {
        return ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    }

    static Engine open(File model, CellKey key, ModelIo io) throws DelegateUnavailable, DelegateFailed {
        Interpreter.Options options = new Interpreter.Options().setNumThreads(key.threads);
        switch (key.delegate.split(":", 2)[0]) {
            case "xnnpack":
                options.setUseXNNPACK(true);
                break;
            case "cpu":
                options.setUseXNNPACK(false);
                break;
            case "gpu":
                throw new DelegateUnavailable("gpu is not available through the Interpreter of LiteRT 2.x (its "
                        + "Interpreter.Options has no delegates): use --api compiled");
            case "nnapi":
                throw new DelegateUnavailable(key.delegate + " is not available in the app: LiteRT 2.x's Interpreter "
                        + "takes no delegate, and NNAPI is deprecated; use --api compiled with npu, or runner = "
                        + "\"benchmark_model\" (--use_nnapi)");
            default:
                throw new DelegateUnavailable(key.delegate + " is not available in the app (LiteRT's Java API loads no "
                        + "external delegate library; use runner = \"benchmark_model\")");
        }
        try {
            return new InterpreterEngine(new Interpreter(model, options), io);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new DelegateFailed(key.delegate + " could not take the model: " + e.getMessage(), e);
        }
    }

    @Override
    public void setInputs(float[][] values) {
        io.check(values);
        for (int i = 0; i < inputs.length; i++) {
            io.inputs.get(i).write(values[i], inputs[i]);
        }
    }

    @Override
    public void invoke() {
        for (ByteBuffer buffer : inputs) {
            buffer.rewind();
        }
        for (ByteBuffer buffer : outputs) {
            buffer.rewind();
        }
        interpreter.runForMultipleInputsOutputs(inputs, outputMap);
    }

    @Override
    public float[][] outputs() {
        float[][] values = new float[outputs.length][];
        for (int j = 0; j < outputs.length; j++) {
            values[j] = io.outputs.get(j).read(outputs[j]);
        }
        return values;
    }

    @Override
    public void close() {
        interpreter.close();
    }
}
