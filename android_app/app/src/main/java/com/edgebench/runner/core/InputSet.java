package com.edgebench.runner.core;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The plan's input set (device_runner/inputs.py): an .npz (a zip of .npy arrays). Version 2 has
 * x.&lt;i&gt; (the samples of model input i), y (labels, optional), ref.&lt;j&gt; (host fp32 outputs for
 * output j, optional), ref.&lt;variant&gt;.&lt;j&gt; (that variant on the host's reference kernels) and
 * synthetic; the previous layout's x, ref and ref.&lt;variant&gt; are read as input 0 / output 0. Only
 * what the host writes is read: C-order, little-endian numeric arrays.
 */
public final class InputSet {
    private static final Pattern INPUT = Pattern.compile("x\\.(\\d+)");
    private static final Pattern OUTPUT = Pattern.compile("ref\\.(\\d+)");

    public final List<Samples> inputs; // per model input
    public final Samples labels; // null when the set has none
    public final List<Samples> reference; // per model output: the host fp32 outputs; null when absent
    public final boolean synthetic;
    private final File file;
    private final boolean previousLayout;

    private InputSet(File file, boolean previousLayout, List<Samples> inputs, Samples labels,
            List<Samples> reference, boolean synthetic) {
        this.file = file;
        this.previousLayout = previousLayout;
        this.inputs = inputs;
        this.labels = labels;
        this.reference = reference;
        this.synthetic = synthetic;
    }

    /** The number of samples. */
    public int size() {
        return inputs.get(0).n();
    }

    /** One sample's shape per input (numpy's shape[1:]), in the model's input order: the sizes it feeds. */
    public List<int[]> shapes() {
        List<int[]> shapes = new java.util.ArrayList<>();
        for (Samples input : inputs) {
            shapes.add(input.shape);
        }
        return shapes;
    }

    /** Sample ``k`` of every input, in the model's input order. */
    public float[][] sample(int k) {
        float[][] out = new float[inputs.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = inputs.get(i).rows[k];
        }
        return out;
    }

    public static InputSet read(File npz) throws IOException {
        // The variants' reference outputs are read per cell (variantReference), not held all sweep long.
        Map<String, Array> arrays = arrays(npz, name -> !name.startsWith("ref.") || OUTPUT.matcher(name).matches());
        boolean previous = arrays.containsKey("x");
        List<Samples> inputs;
        List<Samples> reference;
        if (previous) {
            inputs = Collections.singletonList(arrays.get("x").samples());
            reference = arrays.containsKey("ref") ? Collections.singletonList(arrays.get("ref").samples()) : null;
        } else {
            inputs = numbered(arrays, INPUT, npz, "x.");
            List<Samples> outputs = numbered(arrays, OUTPUT, npz, "ref.");
            reference = outputs.isEmpty() ? null : outputs;
        }
        if (inputs.isEmpty()) {
            throw new IOException(npz + ": no inputs (neither x.0 nor x)");
        }
        Array y = arrays.get("y");
        Array synthetic = arrays.get("synthetic");
        InputSet set = new InputSet(npz, previous, inputs, y == null ? null : y.samples(), reference,
                synthetic != null && synthetic.values.length > 0 && synthetic.values[0] != 0);
        set.checkLengths();
        return set;
    }

    /**
     * ``variant``'s outputs on the host's reference kernels, one array per output (each sample
     * flattened), or null when the set has none for it (device_runner/inputs.py read_variant_reference).
     */
    public List<Samples> variantReference(String variant) throws IOException {
        String old = "ref." + variant;
        Pattern numbered = Pattern.compile(Pattern.quote(old + ".") + "(\\d+)");
        Map<String, Array> arrays = arrays(file,
                name -> (previousLayout && name.equals(old)) || numbered.matcher(name).matches());
        if (previousLayout && arrays.containsKey(old)) {
            return Collections.singletonList(arrays.get(old).samples());
        }
        List<Samples> outputs = numbered(arrays, numbered, file, old + ".");
        return outputs.isEmpty() ? null : outputs;
    }

    /**
     * The arrays of ``npz`` named ``prefix`` + 0, 1, ... in order, each as samples on axis 0 (empty when none): the
     * numbered families of any .npz the host and the app exchange.
     */
    static List<Samples> numbered(File npz, String prefix) throws IOException {
        Pattern pattern = Pattern.compile(Pattern.quote(prefix) + "(\\d+)");
        return numbered(arrays(npz, name -> pattern.matcher(name).matches()), pattern, npz, prefix);
    }

    private void checkLengths() throws IOException {
        int n = size();
        List<String> keys = new ArrayList<>();
        List<Integer> lengths = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            keys.add((previousLayout ? "x" : "x." + i));
            lengths.add(inputs.get(i).n());
        }
        if (labels != null) {
            keys.add("y");
            lengths.add(labels.n());
        }
        for (int j = 0; reference != null && j < reference.size(); j++) {
            keys.add(previousLayout ? "ref" : "ref." + j);
            lengths.add(reference.get(j).n());
        }
        for (int k = 0; k < keys.size(); k++) {
            if (lengths.get(k) != n) {
                throw new IOException(file + ": " + keys.get(k) + " has " + lengths.get(k) + " samples, "
                        + keys.get(0) + " has " + n);
            }
        }
    }

    /** The arrays of ``npz`` whose names ``wanted`` accepts, by name without ".npy". */
    private static Map<String, Array> arrays(File npz, Predicate<String> wanted) throws IOException {
        Map<String, Array> arrays = new HashMap<>();
        try (ZipFile zip = new ZipFile(npz)) {
            for (ZipEntry entry : Collections.list(zip.entries())) {
                String name = entry.getName().replaceAll("\\.npy$", "");
                if (wanted.test(name)) {
                    try (InputStream in = zip.getInputStream(entry)) {
                        arrays.put(name, Array.parse(readAll(in), npz, entry));
                    }
                }
            }
        }
        return arrays;
    }

    /** The arrays named prefix + 0, 1, ... in order; refused when a number is missing. */
    private static List<Samples> numbered(Map<String, Array> arrays, Pattern pattern, File npz, String prefix)
            throws IOException {
        TreeMap<Integer, Array> found = new TreeMap<>();
        for (Map.Entry<String, Array> e : arrays.entrySet()) {
            Matcher m = pattern.matcher(e.getKey());
            if (m.matches()) {
                found.put(Integer.parseInt(m.group(1)), e.getValue());
            }
        }
        if (!found.isEmpty() && found.lastKey() != found.size() - 1) {
            throw new IOException(npz + ": " + prefix + "<n> arrays are not numbered 0.." + (found.size() - 1)
                    + ": " + found.keySet());
        }
        List<Samples> out = new ArrayList<>();
        for (Array array : found.values()) {
            out.add(array.samples());
        }
        return out;
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

    /** One .npy array: its shape and its values as floats (what the engines take; class ids stay exact). */
    static final class Array {
        private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']+)'");
        private static final Pattern ORDER = Pattern.compile("'fortran_order':\\s*(True|False)");
        private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

        final int[] shape;
        final float[] values;
        final boolean integer;

        private Array(int[] shape, float[] values, boolean integer) {
            this.shape = shape;
            this.values = values;
            this.integer = integer;
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
            int[] shape = Arrays.stream(dims).map(String::trim).filter(s -> !s.isEmpty())
                    .mapToInt(Integer::parseInt).toArray();
            int count = 1;
            for (int d : shape) {
                count *= d;
            }
            buffer.position(start + headerLength);
            float[] values = new float[count];
            for (int i = 0; i < count; i++) {
                values[i] = switch (descr) {
                    case "|u1", "|b1" -> buffer.get() & 0xFF;
                    case "|i1" -> buffer.get();
                    case "<i2" -> buffer.getShort();
                    case "<u2" -> buffer.getShort() & 0xFFFF;
                    case "<i4" -> buffer.getInt();
                    case "<u4" -> buffer.getInt() & 0xFFFFFFFFL;
                    case "<i8" -> buffer.getLong();
                    case "<f4" -> buffer.getFloat();
                    case "<f8" -> (float) buffer.getDouble();
                    default -> throw new IOException(where + ": dtype " + descr + " is not read");
                };
            }
            return new Array(shape, values, !descr.endsWith("f4") && !descr.endsWith("f8"));
        }

        private static String find(Pattern pattern, String header, String where) throws IOException {
            Matcher m = pattern.matcher(header);
            if (!m.find()) {
                throw new IOException(where + ": .npy header without " + pattern.pattern());
            }
            return m.group(1);
        }

        /** Samples on axis 0 (a 0-d array is one sample), each flattened. */
        Samples samples() {
            int n = shape.length == 0 ? 1 : shape[0];
            int width = n == 0 ? 0 : values.length / n;
            float[][] rows = new float[n][width];
            for (int i = 0; i < n; i++) {
                System.arraycopy(values, i * width, rows[i], 0, width);
            }
            return new Samples(shape.length == 0 ? shape : Arrays.copyOfRange(shape, 1, shape.length), rows, integer);
        }
    }
}
