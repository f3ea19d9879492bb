package com.edgebench.runner.core;

/**
 * A tensor's element type and affine quantisation: how a float input becomes what the model takes,
 * and its output becomes floats again (device_runner/engines.py's quantize_input / dequantize_output).
 */
public final class Quantization {
    public enum Type { FLOAT32, INT8, UINT8 }

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
    public byte[] quantize(float[] values) {
        int low = type == Type.INT8 ? -128 : 0;
        int high = type == Type.INT8 ? 127 : 255;
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            double q = quantized() ? Math.rint(values[i] / (double) scale + zeroPoint) : values[i];
            out[i] = (byte) Math.max(low, Math.min(high, (long) q));
        }
        return out;
    }

    public float[] dequantize(byte[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            int raw = type == Type.INT8 ? values[i] : values[i] & 0xFF;
            out[i] = quantized() ? (raw - zeroPoint) * scale : raw;
        }
        return out;
    }
}
