package com.edgebench.runner.core;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes an .npz as numpy.savez does (a zip of .npy arrays, format 1.0 headers, C order, little-endian), which
 * numpy.load reads on the host: the probe pass's outputs (Sweep.probePass) and the tests' input sets.
 */
public final class NpzWriter implements AutoCloseable {
    private final ZipOutputStream zip;

    public NpzWriter(File file) throws IOException {
        zip = new ZipOutputStream(new FileOutputStream(file));
    }

    /** ``values`` as float32 of ``shape``. */
    public NpzWriter float32(String name, int[] shape, float... values) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return array(name, "<f4", shape, b.array());
    }

    /** One array: ``data`` already laid out as numpy's ``descr`` says, of ``shape``. */
    public NpzWriter array(String name, String descr, int[] shape, byte[] data) throws IOException {
        StringBuilder header = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (");
        for (int d : shape) {
            header.append(d).append(", ");
        }
        header.append("), }");
        while ((10 + header.length() + 1) % 64 != 0) { // the data starts 64-aligned, after a closing newline
            header.append(' ');
        }
        header.append('\n');
        ByteBuffer h = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        h.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        h.putShort((short) header.length());
        zip.putNextEntry(new ZipEntry(name + ".npy"));
        zip.write(h.array());
        zip.write(header.toString().getBytes(StandardCharsets.US_ASCII));
        zip.write(data);
        zip.closeEntry();
        return this;
    }

    @Override
    public void close() throws IOException {
        zip.close();
    }
}
