package com.edgebench.runner.core;

import java.nio.ByteBuffer;

/**
 * A tensor's element type and affine quantisation: how a float input becomes what the model takes,
 * and its output becomes floats again (device_runner/engines.py's quantize_input / dequantize_output).
 * The engines only move bytes; every conversion is here, where JUnit can check it.
 */
public final class Quantization {
    public enum Type {
        FLOAT32(4, 0, 0), INT8(1, -128, 127), UINT8(1, 0, 255), INT16(2, -32768, 32767),
        INT32(4, Integer.MIN_VALUE, Integer.MAX_VALUE), INT64(8, Long.MIN_VALUE, Long.MAX_VALUE);

        public final int bytes;
        final long low;
        final long high;

        Type(int bytes, long low, long high) {
            this.bytes = bytes;
            this.low = low;
            this.high = high;
        }
    }

    public final Type type;
    public final float scale; // 0 when not quantised
    public final int zeroPoint;

    public Quantization(Type type, float scale, int zeroPoint) {
        this.type = type;
        this.scale = scale;
        this.zeroPoint = zeroPoint;
    }

    public boolean quantized() {
        return type != Type.FLOAT32 && scale != 0f;
    }

    /** round-half-even (numpy.rint), then clipped to the type's range; unquantised integers are cast. */
    long level(float value) {
        double q = quantized() ? Math.rint(value / (double) scale + zeroPoint) : value;
        return Math.max(type.low, Math.min(type.high, (long) q));
    }

    public byte[] quantize(float[] values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) level(values[i]);
        }
        return out;
    }

    public float[] dequantize(byte[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = real(type == Type.INT8 ? values[i] : values[i] & 0xFF);
        }
        return out;
    }

    private float real(long raw) {
        return quantized() ? (raw - zeroPoint) * scale : raw;
    }

    /** ``values`` into ``buffer`` (from 0, in the buffer's byte order) as this tensor's elements, filling it. */
    public void write(float[] values, ByteBuffer buffer) {
        if ((long) values.length * type.bytes != buffer.capacity()) {
            throw new IllegalArgumentException(values.length + " values do not fill a " + buffer.capacity() + "-byte "
                    + type + " tensor");
        }
        buffer.rewind();
        for (float v : values) {
            switch (type) {
                case FLOAT32 -> buffer.putFloat(v);
                case INT8, UINT8 -> buffer.put((byte) level(v));
                case INT16 -> buffer.putShort((short) level(v));
                case INT32 -> buffer.putInt((int) level(v));
                case INT64 -> buffer.putLong(level(v));
            }
        }
    }

    /** Every element of ``buffer`` as a float, dequantised. */
    public float[] read(ByteBuffer buffer) {
        buffer.rewind();
        float[] out = new float[buffer.capacity() / type.bytes];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (type) {
                case FLOAT32 -> buffer.getFloat();
                case INT8 -> real(buffer.get());
                case UINT8 -> real(buffer.get() & 0xFF);
                case INT16 -> real(buffer.getShort());
                case INT32 -> real(buffer.getInt());
                case INT64 -> real(buffer.getLong());
            };
        }
        return out;
    }

    /** Integer elements as ints (CompiledModel's TensorBuffer.writeInt). */
    public int[] ints(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (int) level(values[i]);
        }
        return out;
    }

    public float[] fromInts(int[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = real(values[i]);
        }
        return out;
    }
}
