package com.edgebench.runner.core;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Writes small .npz files as numpy.savez does (format 1.0 headers), for the tests. */
final class TestNpz {
    private final ZipOutputStream zip;

    TestNpz(File file) throws IOException {
        zip = new ZipOutputStream(new FileOutputStream(file));
    }

    TestNpz uint8(String name, int[] shape, int... values) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(values.length);
        for (int v : values) {
            b.put((byte) v);
        }
        return entry(name, "|u1", shape, b.array());
    }

    TestNpz int64(String name, long... values) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return entry(name, "<i8", new int[] {values.length}, b.array());
    }

    TestNpz int32(String name, int[] shape, int... values) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return entry(name, "<i4", shape, b.array());
    }

    /** A 0-d bool array, as numpy saves np.array(True). */
    TestNpz bool(String name, boolean value) throws IOException {
        return entry(name, "|b1", new int[0], new byte[] {(byte) (value ? 1 : 0)});
    }

    TestNpz float32(String name, int[] shape, float... values) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return entry(name, "<f4", shape, b.array());
    }

    private TestNpz entry(String name, String descr, int[] shape, byte[] data) throws IOException {
        StringBuilder dims = new StringBuilder();
        for (int d : shape) {
            dims.append(d).append(", ");
        }
        String header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
        header = header + " ".repeat(63 - (10 + header.length()) % 64) + "\n";
        ByteBuffer h = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        h.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        h.putShort((short) header.length());
        zip.putNextEntry(new ZipEntry(name + ".npy"));
        zip.write(h.array());
        zip.write(header.getBytes(StandardCharsets.US_ASCII));
        zip.write(data);
        zip.closeEntry();
        return this;
    }

    void close() throws IOException {
        zip.close();
    }
}
