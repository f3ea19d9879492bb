package com.edgebench.runner;

import android.os.Build;
import com.edgebench.runner.core.CellKey;
import com.edgebench.runner.core.CellResult;
import com.edgebench.runner.core.Engine;
import com.edgebench.runner.core.ModelIo;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.lite.Delegate;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.gpu.CompatibilityList;
import org.tensorflow.lite.gpu.GpuDelegate;
import org.tensorflow.lite.nnapi.NnApiDelegate;

/**
 * LiteRT's Interpreter API under XNNPACK, plain CPU kernels, NNAPI or the GPU delegate. Every input and
 * output has a direct buffer of its tensor's size; each invoke hands them all to
 * runForMultipleInputsOutputs, which copies in and out as an app does.
 */
final class InterpreterEngine implements Engine {
    private final Interpreter interpreter;
    private final Delegate delegate; // closed with the engine; null for xnnpack/cpu
    private final ModelIo io;
    private final ByteBuffer[] inputs;
    private final ByteBuffer[] outputs;
    private final Map<Integer, Object> outputMap = new HashMap<>();

    private InterpreterEngine(Interpreter interpreter, Delegate delegate, ModelIo io) {
        this.interpreter = interpreter;
        this.delegate = delegate;
        this.io = io;
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
        String[] spec = key.delegate.split(":", 2);
        Delegate delegate = null;
        switch (spec[0]) {
            case "xnnpack":
                options.setUseXNNPACK(true);
                break;
            case "cpu":
                options.setUseXNNPACK(false);
                break;
            case "nnapi":
                if (Build.VERSION.SDK_INT < Build.VERSION_CODES.O_MR1) {
                    throw new DelegateUnavailable("NNAPI delegate needs Android 8.1 (API 27)");
                }
                NnApiDelegate.Options nnapi = new NnApiDelegate.Options();
                if (spec.length > 1) {
                    nnapi.setAcceleratorName(spec[1]);
                    nnapi.setUseNnapiCpu(false); // a named accelerator, not NNAPI's own CPU fallback
                }
                delegate = new NnApiDelegate(nnapi);
                options.setUseXNNPACK(false).addDelegate(delegate);
                break;
            case "gpu":
                CompatibilityList compatibility = new CompatibilityList();
                if (!compatibility.isDelegateSupportedOnThisDevice()) {
                    compatibility.close();
                    throw new DelegateUnavailable("GPU delegate: this GPU is not on LiteRT's compatibility list");
                }
                delegate = new GpuDelegate(compatibility.getBestOptionsForThisDevice());
                compatibility.close();
                options.addDelegate(delegate);
                break;
            default:
                throw new DelegateUnavailable(key.delegate + " is not available in the app (LiteRT's Java API loads no "
                        + "external delegate library; use runner = \"benchmark_model\")");
        }
        try {
            return new InterpreterEngine(new Interpreter(model, options), delegate, io);
        } catch (IllegalArgumentException | IllegalStateException e) {
            closeQuietly(delegate);
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
    public List<String> outputNames() {
        return io.outputNames;
    }

    @Override
    public List<int[]> outputShapes() {
        return io.outputShapes;
    }

    @Override
    public CellResult.Coverage coverage() {
        return null; // the Java API does not say which nodes a delegate took
    }

    @Override
    public Boolean fullyAccelerated() {
        return null;
    }

    @Override
    public void close() {
        interpreter.close();
        closeQuietly(delegate);
    }

    private static void closeQuietly(Delegate delegate) {
        if (delegate instanceof AutoCloseable) {
            try {
                ((AutoCloseable) delegate).close();
            } catch (Exception ignored) {
                // closing after a failure: the failure is what gets reported
            }
        }
    }
}
