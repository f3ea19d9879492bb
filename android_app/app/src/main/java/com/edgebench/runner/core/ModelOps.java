package com.edgebench.runner.core;

import java.nio.charset.StandardCharsets;

/**
 * How many nodes the model's main subgraph has, and how many of them are LiteRT's dispatch op (the custom op
 * a model compiled ahead of time for an NPU carries: what the NPU runs). Field numbers follow LiteRT's
 * schema.fbs, as device_runner/flatbuffer.py reads them: Model.operator_codes (1), Model.subgraphs (2),
 * SubGraph.operators (3), Operator.opcode_index (0), OperatorCode.deprecated_builtin_code (0),
 * custom_code (1), builtin_code (3). Never reads past the end.
 */
public final class ModelOps {
    static final int CUSTOM = 32; // BuiltinOperator_CUSTOM

    /** The main subgraph's node count and its dispatch nodes. */
    public static final class Nodes {
        public final int total;
        public final int dispatch;

        public Nodes(int total, int dispatch) {
            this.total = total;
            this.dispatch = dispatch;
        }
    }

    private final byte[] data;

    private ModelOps(byte[] data) {
        this.data = data;
    }

    /** The nodes of ``tflite``'s first subgraph; IllegalArgumentException when it is no readable LiteRT model. */
    public static Nodes read(byte[] tflite) {
        if (tflite.length < 8 || !"TFL3".equals(new String(tflite, 4, 4, StandardCharsets.US_ASCII))) {
            throw new IllegalArgumentException("not a LiteRT model (no TFL3 identifier)");
        }
        ModelOps r = new ModelOps(tflite);
        int model = r.u32(0);
        int[] codes = r.tables(model, 1);
        boolean[] dispatch = new boolean[codes.length];
        for (int i = 0; i < codes.length; i++) {
            int code = Math.max(r.scalarByte(codes[i], 0), r.scalarInt(codes[i], 3));
            String custom = r.string(codes[i], 1);
            dispatch[i] = code == CUSTOM && custom != null && custom.toUpperCase(java.util.Locale.ROOT).contains("DISPATCH");
        }
        int[] subgraphs = r.tables(model, 2);
        if (subgraphs.length == 0) {
            throw new IllegalArgumentException("model has no subgraph");
        }
        int[] operators = r.tables(subgraphs[0], 3);
        int dispatchNodes = 0;
        for (int op : operators) {
            int index = r.scalarInt(op, 0);
            if (index >= 0 && index < dispatch.length && dispatch[index]) {
                dispatchNodes++;
            }
        }
        return new Nodes(operators.length, dispatchNodes);
    }

    /** TensorType of schema.fbs -> its numpy dtype name (device_runner/flatbuffer.py TENSOR_TYPES); "unknown" else. */
    private static final String[] TENSOR_TYPES = {"float32", "float16", "int32", "uint8", "int64", "string", "bool",
        "int16", "complex64", "int8", "float64", "complex128", "uint64", null, null, "uint32", "uint16", "int4"};

    /**
     * Each node of the main subgraph's key beside its op, in execution order: the text device_runner/coverage.py
     * node_key writes beside each placed node ("v9 int8,int8,int32->int8 2->2"), which a placement forecast
     * matches on: the op's version, the dtypes of its inputs (omitted optional ones left out) and outputs, and the
     * ranks of its data tensors (stored constants left out) and outputs, " dynamic" when one has a dimension fixed
     * only when fed. OperatorCode.version (2, default 1); Model.buffers (4); Tensor.buffer (2); Buffer: data (0),
     * offset (1), size (2). IllegalArgumentException when it is no readable LiteRT model.
     */
    public static java.util.List<String> nodeKeys(byte[] tflite) {
        read(tflite); // the identifier and a main subgraph, checked once
        ModelOps r = new ModelOps(tflite);
        int model = r.u32(0);
        int[] codes = r.tables(model, 1);
        int[] buffers = r.tables(model, 4);
        int subgraph = r.tables(model, 2)[0];
        int[] tensors = r.tables(subgraph, 0);
        boolean[] stored = new boolean[tensors.length];
        for (int t = 0; t < tensors.length; t++) {
            stored[t] = r.holdsData(buffers, r.scalarInt(tensors[t], 2));
        }
        java.util.List<String> keys = new java.util.ArrayList<>();
        for (int op : r.tables(subgraph, 3)) {
            int code = r.scalarInt(op, 0);
            if (code < 0 || code >= codes.length) {
                throw new IllegalArgumentException("corrupt flatbuffer (op code " + code + " of " + codes.length + ")");
            }
            java.util.List<String> inTypes = new java.util.ArrayList<>();
            java.util.List<String> dataRanks = new java.util.ArrayList<>();
            java.util.List<String> outTypes = new java.util.ArrayList<>();
            java.util.List<String> outRanks = new java.util.ArrayList<>();
            boolean dynamic = false;
            for (int t : r.ints(op, 1)) {
                if (t < 0) {
                    continue; // an omitted optional input
                }
                int tensor = r.tensor(tensors, t);
                inTypes.add(r.dtype(tensor));
                if (!stored[t]) {
                    dataRanks.add(Integer.toString(r.ints(tensor, 0).length));
                    dynamic |= r.dynamic(tensor);
                }
            }
            for (int t : r.ints(op, 2)) {
                int tensor = r.tensor(tensors, t);
                outTypes.add(r.dtype(tensor));
                outRanks.add(Integer.toString(r.ints(tensor, 0).length));
                dynamic |= r.dynamic(tensor);
            }
            keys.add("v" + r.scalarInt(codes[code], 2, 1) + " " + String.join(",", inTypes) + "->"
                    + String.join(",", outTypes) + " " + String.join(",", dataRanks) + "->" + String.join(",", outRanks)
                    + (dynamic ? " dynamic" : ""));
        }
        return keys;
    }

    private int tensor(int[] tensors, int index) {
        if (index < 0 || index >= tensors.length) {
            throw new IllegalArgumentException("corrupt flatbuffer (tensor " + index + " of " + tensors.length + ")");
        }
        return tensors[index];
    }

    private String dtype(int tensor) {
        int type = scalarByte(tensor, 1);
        String name = type >= 0 && type < TENSOR_TYPES.length ? TENSOR_TYPES[type] : null;
        return name == null ? "unknown" : name;
    }

    /** Tensor.shape_signature (7) has a dimension fixed only when the model is fed (-1). */
    private boolean dynamic(int tensor) {
        for (int size : ints(tensor, 7)) {
            if (size == -1) {
                return true;
            }
        }
        return false;
    }

    /**
     * Buffer ``index`` carries data of its own: stored inline, or after the flatbuffer at its offset (a model past
     * 2 GB, or as ai-edge-quantizer writes it); buffer 0 and an index out of range hold none (flatbuffer.py's rule).
     */
    private boolean holdsData(int[] buffers, int index) {
        if (index <= 0 || index >= buffers.length) {
            return false;
        }
        int inline = ref(buffers[index], 0);
        if (inline >= 0 && u32(inline) > 0) {
            return true;
        }
        long offset = scalarLong(buffers[index], 1);
        long size = scalarLong(buffers[index], 2);
        if (offset <= 1) {
            return false; // 1 is the writer's placeholder for "no offset"
        }
        if (offset + size > data.length) {
            throw new IllegalArgumentException("buffer " + index + " lies past the file's end (" + offset + " + " + size
                    + " > " + data.length + ")");
        }
        return size > 0;
    }

    /** One input of the main subgraph as the file declares it: where its placeholder shape's sizes lie. */
    public static final class Input {
        public final String name;
        public final int shapeAt; // byte offset of the first int32 size of Tensor.shape
        public final int[] shape; // the placeholder shape (1 where a dimension is dynamic)
        public final int[] declared; // Tensor.shape_signature, -1 where dynamic; the shape itself when absent

        Input(String name, int shapeAt, int[] shape, int[] declared) {
            this.name = name;
            this.shapeAt = shapeAt;
            this.shape = shape;
            this.declared = declared;
        }
    }

    /**
     * The main subgraph's inputs, in its order (SubGraph.tensors (0), SubGraph.inputs (1), Tensor.shape (0),
     * Tensor.name (3), Tensor.shape_signature (7)); IllegalArgumentException when it is no readable model.
     */
    public static java.util.List<Input> inputs(byte[] tflite) {
        read(tflite); // the identifier and a main subgraph, checked once
        ModelOps r = new ModelOps(tflite);
        int subgraph = r.tables(r.u32(0), 2)[0];
        int[] tensors = r.tables(subgraph, 0);
        java.util.List<Input> inputs = new java.util.ArrayList<>();
        for (int index : r.ints(subgraph, 1)) {
            if (index < 0 || index >= tensors.length) {
                throw new IllegalArgumentException("corrupt flatbuffer (input tensor " + index + " of " + tensors.length
                        + ")");
            }
            int tensor = tensors[index];
            int[] shape = r.ints(tensor, 0);
            int[] signature = r.ints(tensor, 7);
            int vector = r.ref(tensor, 0);
            inputs.add(new Input(r.string(tensor, 3), vector + 4, shape, signature.length > 0 ? signature : shape));
        }
        return inputs;
    }

    static final int DEQUANTIZE = 6; // BuiltinOperator_DEQUANTIZE
    static final int CAST = 53; // BuiltinOperator_CAST: like DEQUANTIZE, only turns integers into floats
    static final int[] STATE_OPS = {129, 142, 143, 144}; // CALL_ONCE, VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE

    /**
     * What the main subgraph's outputs can be held to (device_runner/precision.py): whether some op other than
     * DEQUANTIZE or CAST reads an integer tensor, and each output's step and range (its own quantisation, or
     * that of the integer tensor a DEQUANTIZE writing it reads). Tensor (SubGraph.tensors, 0): type (1),
     * quantization (4: scale 2, zero_point 3); Operator: inputs (1), outputs (2); SubGraph.outputs (2).
     */
    public static Precision precision(byte[] tflite) {
        ModelOps r = new ModelOps(tflite);
        int model = r.u32(0);
        int[] codes = r.tables(model, 1);
        int[] subgraphs = r.tables(model, 2);
        if (subgraphs.length == 0) {
            throw new IllegalArgumentException("model has no subgraph");
        }
        int[] tensors = r.tables(subgraphs[0], 0);
        boolean integer = false;
        java.util.Map<Integer, Integer> dequantized = new java.util.HashMap<>(); // output tensor -> integer input
        for (int op : r.tables(subgraphs[0], 3)) {
            int index = r.scalarInt(op, 0);
            int code = index >= 0 && index < codes.length
                    ? Math.max(r.scalarByte(codes[index], 0), r.scalarInt(codes[index], 3)) : -1;
            int[] inputs = r.ints(op, 1);
            boolean conversion = code == DEQUANTIZE || code == CAST;
            for (int t : inputs) {
                integer |= !conversion && t >= 0 && t < tensors.length && r.integer(tensors[t]);
            }
            if (code == DEQUANTIZE && inputs.length > 0) {
                for (int t : r.ints(op, 2)) {
                    dequantized.put(t, inputs[0]);
                }
            }
        }
        java.util.List<Precision.Output> outputs = new java.util.ArrayList<>();
        for (int t : r.ints(subgraphs[0], 2)) {
            Precision.Output own = r.quantized(tensors, t);
            Integer read = dequantized.get(t);
            outputs.add(own != Precision.FLOAT || read == null ? own : r.quantized(tensors, read));
        }
        return new Precision(integer, outputs);
    }

    static final String SERVING = "serving_default";

    /**
     * The serving signature's name for each of the main subgraph's outputs, in order (its key, ``dense_1``, where
     * the converter named the tensor ``StatefulPartitionedCall:0``), as device_runner/signature.py reads it; null
     * when the model has no signature that names every output of subgraph 0. Model.signature_defs (7);
     * SignatureDef: outputs (1), signature_key (2), subgraph_index (4); TensorMap: name (0), tensor_index (1).
     */
    public static java.util.List<String> signatureOutputs(byte[] tflite) {
        ModelOps r = new ModelOps(tflite);
        int model = r.u32(0);
        int[] subgraphs = r.tables(model, 2);
        int[] signatures = r.tables(model, 7);
        if (subgraphs.length == 0 || signatures.length == 0) {
            return null;
        }
        int chosen = signatures[0];
        for (int signature : signatures) {
            if (SERVING.equals(r.string(signature, 2))) {
                chosen = signature;
                break;
            }
        }
        if (r.scalarInt(chosen, 4) != 0) {
            return null;
        }
        java.util.Map<Integer, String> byTensor = new java.util.HashMap<>();
        for (int map : r.tables(chosen, 1)) {
            String name = r.string(map, 0);
            byTensor.put(r.scalarInt(map, 1), name == null ? "" : name);
        }
        int[] order = r.ints(subgraphs[0], 2);
        java.util.List<String> names = new java.util.ArrayList<>();
        for (int t : order) {
            names.add(byTensor.get(t));
        }
        return byTensor.size() == order.length && !names.contains(null) ? names : null;
    }

    /** A state op (resource variables) among the model's op codes: its outputs depend on what came before. */
    public static boolean stateful(byte[] tflite) {
        ModelOps r = new ModelOps(tflite);
        for (int code : r.tables(r.u32(0), 1)) {
            int builtin = Math.max(r.scalarByte(code, 0), r.scalarInt(code, 3));
            for (int state : STATE_OPS) {
                if (builtin == state) {
                    return true;
                }
            }
        }
        return false;
    }

    /** TensorType INT8 (9), UINT8 (3), INT16 (7) or INT4 (17): integers an op may read as they are. */
    private boolean integer(int tensor) {
        int type = scalarByte(tensor, 1);
        return type == 9 || type == 3 || type == 7 || type == 17;
    }

    /** TensorType INT8, UINT8 and INT16 as the type whose range a quantised output spans, else null. */
    private Quantization.Type integerType(int tensor) {
        switch (scalarByte(tensor, 1)) {
            case 9:
                return Quantization.Type.INT8;
            case 3:
                return Quantization.Type.UINT8;
            case 7:
                return Quantization.Type.INT16;
            default:
                return null;
        }
    }

    private Precision.Output quantized(int[] tensors, int index) {
        if (index < 0 || index >= tensors.length) {
            return Precision.FLOAT;
        }
        Quantization.Type type = integerType(tensors[index]);
        int q = ref(tensors[index], 4);
        if (type == null || q < 0) {
            return Precision.FLOAT;
        }
        float[] scales = floats(q, 2);
        long[] zeroPoints = longs(q, 3);
        if (scales.length != 1 || scales[0] == 0) {
            return Precision.FLOAT;
        }
        return Precision.Output.of(new Quantization(type, scales[0], zeroPoints.length == 1 ? (int) zeroPoints[0] : 0));
    }

    private int vector(int table, int index, int size) {
        int vector = ref(table, index);
        if (vector < 0) {
            return -1;
        }
        int n = u32(vector);
        if (n < 0 || n > (data.length - vector - 4) / size) {
            throw new IllegalArgumentException("corrupt flatbuffer (a vector of " + (n & 0xffffffffL) + " entries at "
                    + vector + " runs past its " + data.length + " bytes)");
        }
        return vector;
    }

    private int[] ints(int table, int index) {
        int vector = vector(table, index, 4);
        int[] out = new int[vector < 0 ? 0 : u32(vector)];
        for (int i = 0; i < out.length; i++) {
            out[i] = u32(vector + 4 + 4 * i);
        }
        return out;
    }

    private float[] floats(int table, int index) {
        int[] bits = ints(table, index);
        float[] out = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            out[i] = Float.intBitsToFloat(bits[i]);
        }
        return out;
    }

    private long[] longs(int table, int index) {
        int vector = vector(table, index, 8);
        long[] out = new long[vector < 0 ? 0 : u32(vector)];
        for (int i = 0; i < out.length; i++) {
            int p = vector + 4 + 8 * i;
            out[i] = (u32(p) & 0xffffffffL) | ((long) u32(p + 4)) << 32;
        }
        return out;
    }

    private int at(int pos, int size) {
        if (pos < 0 || pos + size > data.length) {
            throw new IllegalArgumentException("truncated or corrupt flatbuffer (offset " + pos + " lies outside its "
                    + data.length + " bytes)");
        }
        return pos;
    }

    private int u32(int pos) {
        at(pos, 4);
        return (data[pos] & 0xff) | (data[pos + 1] & 0xff) << 8 | (data[pos + 2] & 0xff) << 16 | (data[pos + 3] & 0xff) << 24;
    }

    private int u16(int pos) {
        at(pos, 2);
        return (data[pos] & 0xff) | (data[pos + 1] & 0xff) << 8;
    }

    /** Absolute position of field ``index`` of the table at ``table``, or -1 if absent. */
    private int field(int table, int index) {
        int vtable = table - u32(table);
        int slot = 4 + 2 * index;
        if (slot >= u16(vtable)) {
            return -1;
        }
        int offset = u16(vtable + slot);
        return offset == 0 ? -1 : table + offset;
    }

    private int scalarInt(int table, int index) {
        return scalarInt(table, index, 0);
    }

    private int scalarInt(int table, int index, int absent) {
        int pos = field(table, index);
        return pos < 0 ? absent : u32(pos);
    }

    private long scalarLong(int table, int index) {
        int pos = field(table, index);
        return pos < 0 ? 0 : (u32(pos) & 0xffffffffL) | ((long) u32(pos + 4)) << 32;
    }

    private int scalarByte(int table, int index) {
        int pos = field(table, index);
        return pos < 0 ? 0 : data[at(pos, 1)];
    }

    private int ref(int table, int index) {
        int pos = field(table, index);
        return pos < 0 ? -1 : pos + u32(pos);
    }

    private int[] tables(int table, int index) {
        int vector = ref(table, index);
        if (vector < 0) {
            return new int[0];
        }
        int n = u32(vector);
        if (n < 0 || n > (data.length - vector - 4) / 4) {
            throw new IllegalArgumentException("corrupt flatbuffer (a vector of " + (n & 0xffffffffL) + " entries at "
                    + vector + " runs past its " + data.length + " bytes)");
        }
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int p = vector + 4 + 4 * i;
            out[i] = p + u32(p);
        }
        return out;
    }

    private String string(int table, int index) {
        int pos = ref(table, index);
        if (pos < 0) {
            return null;
        }
        int length = u32(pos);
        return new String(data, at(pos + 4, length), length, StandardCharsets.UTF_8);
    }
}
