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

    private int[] ints(int table, int index) {
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
            out[i] = u32(vector + 4 + 4 * i);
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
        int pos = field(table, index);
        return pos < 0 ? 0 : u32(pos);
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
