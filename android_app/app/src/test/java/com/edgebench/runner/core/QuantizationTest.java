package com.edgebench.runner.core;

import static org.junit.Assert.assertArrayEquals;

import org.junit.Test;

public class QuantizationTest {
    private final Quantization int8 = new Quantization(Quantization.Type.INT8, 0.5f, -10);

    @Test
    public void inputsRoundHalfToEvenAndClipAsNumpyDoes() {
        // numpy: np.clip(np.rint(x / 0.5 - 10), -128, 127) for x = [0.25, 0.75, 1000, -1000, 3.0]
        assertArrayEquals(new byte[] {-10, -8, 127, -128, -4},
                int8.quantize(new float[] {0.25f, 0.75f, 1000f, -1000f, 3.0f}));
    }

    @Test
    public void outputsComeBackAsFloats() {
        assertArrayEquals(new float[] {5f, -59f, 0f}, int8.dequantize(new byte[] {0, -128, -10}), 0);
        Quantization uint8 = new Quantization(Quantization.Type.UINT8, 1f / 256, 0);
        assertArrayEquals(new float[] {255f / 256}, uint8.dequantize(new byte[] {(byte) 255}), 1e-9f);
    }

    @Test
    public void unquantisedIntegerInputsAreCastLikeAstype() {
        Quantization raw = new Quantization(Quantization.Type.UINT8, 0f, 0);
        assertArrayEquals(new byte[] {0, (byte) 200}, raw.quantize(new float[] {0f, 200f}));
    }
}
