package com.edgebench.runner.core;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The plan's input set: an .npz (a zip of .npy arrays) with x (inputs), y (labels, optional) and
 * ref (host fp32 outputs, optional). Only what the host writes is read: C-order arrays of
 * uint8, int32, int64, float32 or float64, little-endian.
 */
public final class InputSet {
    public final float[][] x; // one flattened input per sample
    public final long[] y;
    public final float[][] ref;

    private InputSet(float[][] x, long[] y, float[][] ref) {
        this.x = x;
        this.y = y;
        this.ref = ref;
    }

    public int size() {
        return x.length;
    }

    public static InputSet read(File npz) throws IOException {
        Map<String, Array> arrays = new HashMap<>();
        try (ZipFile zip = new ZipFile(npz)) {
            for (ZipEntry entry : java.util.Collections.list(zip.entries())) {
                try (InputStream in = zip.getInputStream(entry)) {
                    arrays.put(entry.getName().replaceAll("\\.npy$", ""), Array.parse(readAll(in), npz, entry));
                }
            }
        }
        Array x = arrays.get("x");
        if (x == null) {
            throw new IOException(npz + ": no array x (the inputs)");
        }
        Array y = arrays.get("y");
        Array ref = arrays.get("ref");
        return new InputSet(x.rows(), y == null ? null : y.longs(), ref == null ? null : ref.rows());
    }

    /** The whole stream: InputStream.readAllBytes needs API 33 and the app runs from API 26. */
    static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[1 << 16];
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
            out.write(buffer, 0, n);
        }
        return out.toByteArray();
    }

    /** One .npy array: its shape and its values as doubles (exact for every dtype read here). */
    static final class Array {
        private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']+)'");
        private static final Pattern ORDER = Pattern.compile("'fortran_order':\\s*(True|False)");
        private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

        final int[] shape;
        final double[] values;

        private Array(int[] shape, double[] values) {
            this.shape = shape;
            this.values = values;
        }

        static Array parse(byte[] data, File npz, ZipEntry entry) throws IOException {
            String where = npz + ":" + entry.getName();
            if (data.length < 10 || data[0] != (byte) 0x93 || !new String(data, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
                throw new IOException(where + ": not an .npy array");
            }
            ByteBuffer buffer = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            int major = data[6];
            int headerLength = major == 1 ? buffer.getShort(8) & 0xFFFF : buffer.getInt(8);
            int start = major == 1 ? 10 : 12;
            String header = new String(data, start, headerLength, StandardCharsets.US_ASCII);
            String descr = find(DESCR, header, where);
            if (find(ORDER, header, where).equals("True")) {
                throw new IOException(where + ": Fortran-ordered arrays are not read");
            }
            String[] dims = find(SHAPE, header, where).split(",");
            int[] shape = java.util.Arrays.stream(dims).map(String::trim).filter(s -> !s.isEmpty())
                    .mapToInt(Integer::parseInt).toArray();
            int count = 1;
            for (int d : shape) {
                count *= d;
            }
            buffer.position(start + headerLength);
            double[] values = new double[count];
            for (int i = 0; i < count; i++) {
                values[i] = switch (descr) {
                    case "|u1" -> buffer.get() & 0xFF;
                    case "|i1" -> buffer.get();
                    case "<i4" -> buffer.getInt();
                    case "<i8" -> buffer.getLong();
                    case "<f4" -> buffer.getFloat();
                    case "<f8" -> buffer.getDouble();
                    default -> throw new IOException(where + ": dtype " + descr + " is not read");
                };
            }
            return new Array(shape, values);
        }

        private static String find(Pattern pattern, String header, String where) throws IOException {
            Matcher m = pattern.matcher(header);
            if (!m.find()) {
                throw new IOException(where + ": .npy header without " + pattern.pattern());
            }
            return m.group(1);
        }

        float[][] rows() {
            int n = shape.length == 0 ? 1 : shape[0];
            int width = n == 0 ? 0 : values.length / n;
            float[][] rows = new float[n][width];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < width; j++) {
                    rows[i][j] = (float) values[i * width + j];
                }
            }
            return rows;
        }

        long[] longs() {
            long[] out = new long[values.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = (long) values[i];
            }
            return out;
        }
    }
}
