package com.edgebench.runner.core;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Writes small .npz files as numpy.savez does, for the tests: the dtypes an input set holds, on NpzWriter. */
final class TestNpz {
    private final NpzWriter npz;

    TestNpz(File file) throws IOException {
        npz = new NpzWriter(file);
    }

    TestNpz uint8(String name, int[] shape, int... values) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(values.length);
        for (int v : values) {
            b.put((byte) v);
        }
        npz.array(name, "|u1", shape, b.array());
        return this;
    }

    TestNpz int64(String name, long... values) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        npz.array(name, "<i8", new int[] {values.length}, b.array());
        return this;
    }

    TestNpz int32(String name, int[] shape, int... values) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        npz.array(name, "<i4", shape, b.array());
        return this;
    }

    /** A 0-d bool array, as numpy saves np.array(True). */
    TestNpz bool(String name, boolean value) throws IOException {
        npz.array(name, "|b1", new int[0], new byte[] {(byte) (value ? 1 : 0)});
        return this;
    }

    TestNpz float32(String name, int[] shape, float... values) throws IOException {
        npz.float32(name, shape, values);
        return this;
    }

    void close() throws IOException {
        npz.close();
    }
}
