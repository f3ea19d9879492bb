package com.edgebench.runner;

import com.edgebench.runner.core.CellKey;
import com.edgebench.runner.core.Engine;
import com.edgebench.runner.core.InputShapes;
import com.edgebench.runner.core.ModelIo;
import com.edgebench.runner.core.Quantization;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.lite.DataType;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.Tensor;
import org.tensorflow.lite.TensorFlowLite;

/**
 * Opens a cell's model through the API it names, sized for the input set's samples (a copy with its placeholder
 * shapes set, core/InputShapes, when they differ); reads every input and output once with a plain Interpreter.
 */
final class AndroidEngines implements Engine.Factory {
    @Override
    public Engine open(File given, CellKey key, List<int[]> samples)
            throws Engine.DelegateUnavailable, Engine.DelegateFailed {
        File model = sized(given, samples);
        ModelIo io;
        Interpreter.Options plain = new Interpreter.Options().setUseXNNPACK(false);
        try (Interpreter probe = new Interpreter(model, plain)) {
            List<Quantization> inputs = new ArrayList<>();
            List<int[]> inputShapes = new ArrayList<>();
            for (int i = 0; i < probe.getInputTensorCount(); i++) {
                inputs.add(quantization(probe.getInputTensor(i), "input " + i));
                inputShapes.add(probe.getInputTensor(i).shape());
            }
            List<Quantization> outputs = new ArrayList<>();
            List<String> names = new ArrayList<>();
            List<int[]> shapes = new ArrayList<>();
            for (int j = 0; j < probe.getOutputTensorCount(); j++) {
                outputs.add(quantization(probe.getOutputTensor(j), "output " + j));
                names.add(probe.getOutputTensor(j).name());
                shapes.add(probe.getOutputTensor(j).shape());
            }
            io = new ModelIo(inputs, inputShapes, outputs, names, shapes);
        }
        switch (key.api) {
            case "interpreter":
                return InterpreterEngine.open(model, key, io);
            case "compiled":
                return CompiledModelEngine.open(model, key, io);
            default:
                throw new Engine.DelegateUnavailable("unknown API " + key.api + " (interpreter or compiled)");
        }
    }

    /** {@code given}, or a copy beside it whose inputs' placeholder shapes are the ones the samples feed. */
    private static File sized(File given, List<int[]> samples) throws Engine.DelegateFailed {
        try {
            byte[] model = Files.readAllBytes(given.toPath());
            byte[] shaped = InputShapes.apply(model, samples);
            if (shaped == model) {
                return given;
            }
            File copy = new File(given.getParentFile(), given.getName() + ".sized.tflite");
            Files.write(copy.toPath(), shaped);
            return copy;
        } catch (Engine.InputsDoNotFit e) {
            throw e; // the input set's fault, not the model's: the sweep stops naming it
        } catch (IOException | IllegalArgumentException e) {
            throw new Engine.DelegateFailed("the model could not be sized for its inputs: " + e.getMessage(), e);
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

    private static Quantization quantization(Tensor tensor, String which) throws Engine.DelegateFailed {
        DataType type = tensor.dataType();
        Quantization.Type kind;
        switch (type) {
            case FLOAT32 -> kind = Quantization.Type.FLOAT32;
            case INT8 -> kind = Quantization.Type.INT8;
            case UINT8, BOOL -> kind = Quantization.Type.UINT8; // a bool is one byte, 0 or 1
            case INT16 -> kind = Quantization.Type.INT16;
            case INT32 -> kind = Quantization.Type.INT32;
            case INT64 -> kind = Quantization.Type.INT64;
            default -> throw new Engine.DelegateFailed(which + " (" + tensor.name() + ") is a " + type
                    + " tensor, which this runner cannot feed or read", null);
        }
        Tensor.QuantizationParams q = tensor.quantizationParams();
        return new Quantization(kind, q.getScale(), q.getZeroPoint());
    }
}
