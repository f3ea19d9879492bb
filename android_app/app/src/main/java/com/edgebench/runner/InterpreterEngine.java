package com.edgebench.runner;

import android.os.Build;
import com.edgebench.runner.core.CellKey;
import com.edgebench.runner.core.CellResult;
import com.edgebench.runner.core.Engine;
import com.edgebench.runner.core.Quantization;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.tensorflow.lite.Delegate;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.gpu.CompatibilityList;
import org.tensorflow.lite.gpu.GpuDelegate;
import org.tensorflow.lite.nnapi.NnApiDelegate;

/** LiteRT's Interpreter API under XNNPACK, plain CPU kernels, NNAPI or the GPU delegate. */
final class InterpreterEngine implements Engine {
    private final Interpreter interpreter;
    private final Delegate delegate; // closed with the engine; null for xnnpack/cpu
    private final Quantization in;
    private final Quantization out;
    private final ByteBuffer input;
    private final ByteBuffer output;

    private InterpreterEngine(Interpreter interpreter, Delegate delegate, Quantization in, Quantization out) {
        this.interpreter = interpreter;
        this.delegate = delegate;
        this.in = in;
        this.out = out;
        input = ByteBuffer.allocateDirect(interpreter.getInputTensor(0).numBytes()).order(ByteOrder.nativeOrder());
        output = ByteBuffer.allocateDirect(interpreter.getOutputTensor(0).numBytes()).order(ByteOrder.nativeOrder());
    }

    static Engine open(File model, CellKey key, Quantization in, Quantization out)
            throws DelegateUnavailable, DelegateFailed {
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
            return new InterpreterEngine(new Interpreter(model, options), delegate, in, out);
        } catch (IllegalArgumentException | IllegalStateException e) {
            closeQuietly(delegate);
            throw new DelegateFailed(key.delegate + " could not take the model: " + e.getMessage(), e);
        }
    }

    @Override
    public void setInput(float[] values) {
        input.rewind();
        if (in.type == Quantization.Type.FLOAT32) {
            input.asFloatBuffer().put(values);
        } else {
            input.put(in.quantize(values));
        }
    }

    @Override
    public void invoke() {
        input.rewind();
        output.rewind();
        interpreter.run(input, output); // copies in and out, as an app does
    }

    @Override
    public float[] output() {
        output.rewind();
        if (out.type == Quantization.Type.FLOAT32) {
            float[] values = new float[output.capacity() / 4];
            output.asFloatBuffer().get(values);
            return values;
        }
        byte[] raw = new byte[output.capacity()];
        output.get(raw);
        return out.dequantize(raw);
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
