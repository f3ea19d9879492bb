package com.edgebench.runner;

import com.edgebench.runner.core.CellKey;
import com.edgebench.runner.core.Engine;
import com.edgebench.runner.core.Quantization;
import java.io.File;
import org.tensorflow.lite.DataType;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.Tensor;
import org.tensorflow.lite.TensorFlowLite;

/** Opens a cell's model through the API it names; reads the I/O types once with a plain Interpreter. */
final class AndroidEngines implements Engine.Factory {
    @Override
    public Engine open(File model, CellKey key) throws Engine.DelegateUnavailable, Engine.DelegateFailed {
        Quantization in;
        Quantization out;
        Interpreter.Options plain = new Interpreter.Options().setUseXNNPACK(false);
        try (Interpreter probe = new Interpreter(model, plain)) {
            in = quantization(probe.getInputTensor(0));
            out = quantization(probe.getOutputTensor(0));
        }
        switch (key.api) {
            case "interpreter":
                return InterpreterEngine.open(model, key, in, out);
            case "compiled":
                return CompiledModelEngine.open(model, key, in, out);
            default:
                throw new Engine.DelegateUnavailable("unknown API " + key.api + " (interpreter or compiled)");
        }
    }

    @Override
    public String runtime(String api) {
        return "compiled".equals(api) ? "litert-compiledmodel-java" : "litert-interpreter-java";
    }

    @Override
    public String runtimeVersion(String api) {
        return "compiled".equals(api) ? BuildConfig.LITERT_VERSION : TensorFlowLite.runtimeVersion();
    }

    private static Quantization quantization(Tensor tensor) {
        DataType type = tensor.dataType();
        Quantization.Type kind = type == DataType.INT8 ? Quantization.Type.INT8
                : type == DataType.UINT8 ? Quantization.Type.UINT8
                : Quantization.Type.FLOAT32;
        Tensor.QuantizationParams q = tensor.quantizationParams();
        return new Quantization(kind, q.getScale(), q.getZeroPoint());
    }
}
