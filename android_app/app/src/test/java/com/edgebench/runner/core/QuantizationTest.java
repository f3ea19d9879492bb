package com.edgebench.runner.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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

    @Test
    public void eachElementTypeIsWrittenIntoAndReadBackFromItsTensorsBytes() {
        ByteBuffer bytes = ByteBuffer.allocate(3).order(ByteOrder.nativeOrder());
        int8.write(new float[] {0.25f, 1000f, 3.0f}, bytes);
        assertArrayEquals(new byte[] {-10, 127, -4}, bytes.array());
        assertArrayEquals(new float[] {0f, 68.5f, 3f}, int8.read(bytes), 0);
        Quantization tokens = new Quantization(Quantization.Type.INT32, 0f, 0); // token ids: cast, not quantised
        ByteBuffer ints = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
        tokens.write(new float[] {101f, 2047f}, ints);
        assertArrayEquals(new float[] {101f, 2047f}, tokens.read(ints), 0);
        Quantization longs = new Quantization(Quantization.Type.INT64, 0f, 0);
        ByteBuffer wide = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
        longs.write(new float[] {-3f}, wide);
        assertEquals(-3L, wide.getLong(0));
        Quantization floats = new Quantization(Quantization.Type.FLOAT32, 0f, 0);
        ByteBuffer four = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder());
        floats.write(new float[] {0.5f}, four);
        assertArrayEquals(new float[] {0.5f}, floats.read(four), 0);
    }

    @Test
    public void valuesThatDoNotFillTheTensorAreRefusedSayingSo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> int8.write(new float[] {1f, 2f}, ByteBuffer.allocate(3)));
        assertEquals("2 values do not fill a 3-byte INT8 tensor", e.getMessage());
    }
}
