package com.edgebench.runner.core;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A pretend phone for the core's tests: an engine whose answer is a function of its input (the class
 * is the input's sum mod 10), or, given an input set to replay, whatever the host's reference kernels
 * answered for that input; a probe model (every op's outputs exposed) answers what the host's reference
 * kernels answered for it, given in probeAnswers. A delegate can be made to corrupt what it returns: a
 * probe's outputs as one broken op would (probeCorrupted: that op's output and those computed after it).
 */
final class FakeDevice implements Engine.Factory, Probes {
    /** Reversed outputs: another top-1 and a cosine far from 1, as a buggy driver gives. */
    static final UnaryOperator<float[]> REVERSE = values -> {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[values.length - 1 - i];
        }
        return out;
    };
    static final UnaryOperator<float[]> NAN = values -> {
        float[] out = values.clone();
        out[out.length - 1] = Float.NaN;
        return out;
    };

    final List<String> opened = new ArrayList<>();
    long hangMillis = 0; // > 0: invoke sleeps this long (a hung delegate)
    long workNanos = 0; // > 0: invoke keeps the CPU busy this long (a model that takes time, without a sleep's jitter)
    final Set<String> failingVariants = new HashSet<>(); // their delegate cannot prepare the graph
    final List<String> invoked = new ArrayList<>(); // the variant of every invoke, in order
    final Map<String, UnaryOperator<float[]>> corrupting = new HashMap<>(); // delegate -> what it does to outputs
    final Map<String, Integer> throwingFrom = new HashMap<>(); // variant -> its invoke that throws first (1-based)
    // probe file name -> per output, the host reference's answers over the replayed samples
    final Map<String, List<Samples>> probeAnswers = new HashMap<>();
    // probe file name -> the outputs a corrupting delegate breaks (a broken op's, and those after it); absent: all
    final Map<String, Set<Integer>> probeCorrupted = new HashMap<>();
    int outputCount = 1; // the classifier's outputs: output j is the class of (sum + j)
    Integer inputCount; // the inputs the model takes; null: any number
    int thermalStatus = 0;
    int peakResets = 0;
    private final InputSet replay; // null: the classifier answers

    FakeDevice() {
        this(null);
    }

    FakeDevice(InputSet replay) {
        this.replay = replay;
    }

    @Override
    public Engine open(File model, CellKey key, List<int[]> samples)
            throws Engine.DelegateUnavailable, Engine.DelegateFailed {
        opened.add(key.id());
        switch (key.delegate) {
            case "nnapi":
                throw new Engine.DelegateUnavailable("NNAPI needs Android 8.1");
            case "gpu":
                throw new Engine.DelegateFailed("GPU delegate could not prepare the graph", null);
            default:
                if (failingVariants.contains(key.variant)) {
                    throw new Engine.DelegateFailed(key.variant + ": the delegate could not prepare the graph", null);
                }
                if (probeAnswers.containsKey(model.getName())) {
                    return new FakeEngine(this, key, probeAnswers.get(model.getName()),
                            probeCorrupted.get(model.getName()));
                }
                List<Samples> answers;
                try {
                    answers = replay == null ? null : replay.variantReference(key.variant);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                if (replay != null && answers == null) {
                    answers = replay.reference;
                }
                return new FakeEngine(this, key, answers, null);
        }
    }

    @Override
    public String runtime(String api) {
        return "fake-litert";
    }

    @Override
    public String runtimeVersion(String api) {
        return "0.0";
    }

    @Override
    public double rssMb() {
        return 100.0 + opened.size(); // each engine opened adds 1 MB
    }

    @Override
    public double peakRssMb() {
        return 200.0;
    }

    @Override
    public void resetPeak() {
        peakResets++;
    }

    @Override
    public CellResult.DeviceFacts facts(String runtime, String runtimeVersion) {
        CellResult.DeviceFacts f = new CellResult.DeviceFacts();
        f.runtime = runtime;
        f.runtimeVersion = runtimeVersion;
        f.machine = "arm64-v8a";
        f.cpuModel = "Fake SoC";
        f.cores = 8;
        f.os = "Android 14 (API 34)";
        f.kernel = "6.1";
        f.cpuFeatures = CpuFeatures.parse("Features\t: fp asimd fphp asimdhp asimddp i8mm\n"); // a Cortex-A78's
        return f;
    }

    @Override
    public Map<String, Double> temperaturesC() {
        Map<String, Double> t = new LinkedHashMap<>();
        t.put("cpu", 40.0);
        return t;
    }

    @Override
    public int thermalStatus() {
        return thermalStatus;
    }

    /** The classifier's output j for one sample: one-hot over 10 classes at (sum of every input + j) mod 10. */
    static float[] oneHot(float[][] inputs, int j) {
        double sum = j;
        for (float[] input : inputs) {
            for (float v : input) {
                sum += v;
            }
        }
        float[] out = new float[10];
        out[(int) (sum % 10)] = 1f;
        return out;
    }

    private static final class FakeEngine implements Engine {
        private final FakeDevice device;
        private final CellKey key;
        private final List<Samples> answers; // per output, over the replayed samples; null: the classifier
        private final Set<Integer> faulty; // the outputs a corrupting delegate breaks; null: all
        private final Map<InputKey, Integer> sampleOf = new HashMap<>(); // input -> sample index, by content
        private float[][] inputs = new float[0][];

        FakeEngine(FakeDevice device, CellKey key, List<Samples> answers, Set<Integer> faulty) {
            this.device = device;
            this.key = key;
            this.answers = answers;
            this.faulty = faulty;
            for (int i = 0; answers != null && i < device.replay.size(); i++) {
                sampleOf.putIfAbsent(new InputKey(device.replay.sample(i)), i);
            }
        }

        @Override
        public void setInputs(float[][] inputs) {
            if (device.inputCount != null && inputs.length != device.inputCount) {
                throw new Engine.InputsDoNotFit("the model takes " + device.inputCount + " inputs, the input set has "
                        + inputs.length);
            }
            this.inputs = inputs.clone();
        }

        @Override
        public void invoke() {
            device.invoked.add(key.variant);
            Integer from = device.throwingFrom.get(key.variant);
            if (from != null && Collections.frequency(device.invoked, key.variant) >= from) {
                throw new IllegalStateException(key.variant + ": the runtime aborted the invoke");
            }
            for (long end = System.nanoTime() + device.workNanos; System.nanoTime() < end; ) {
                Thread.onSpinWait();
            }
            if (device.hangMillis > 0) {
                try {
                    Thread.sleep(device.hangMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public float[][] outputs() {
            Integer sample = sampleOf.get(new InputKey(inputs));
            int count = answers != null ? answers.size() : device.outputCount;
            float[][] out = new float[count][];
            for (int j = 0; j < count; j++) {
                out[j] = answers != null && sample != null ? answers.get(j).rows[sample].clone() : oneHot(inputs, j);
                UnaryOperator<float[]> fault = device.corrupting.get(key.delegate);
                boolean broken = fault != null && (faulty == null || faulty.contains(j));
                out[j] = broken ? fault.apply(out[j]) : out[j];
            }
            return out;
        }

        @Override
        public List<String> outputNames() {
            List<String> names = new ArrayList<>();
            for (int j = 0; j < (answers != null ? answers.size() : device.outputCount); j++) {
                names.add("Identity" + (j == 0 ? "" : "_" + j));
            }
            return names;
        }

        @Override
        public List<int[]> outputShapes() {
            List<int[]> shapes = new ArrayList<>();
            for (int j = 0; j < (answers != null ? answers.size() : device.outputCount); j++) {
                shapes.add(answers != null ? answers.get(j).shape : new int[] {1, 10});
            }
            return shapes;
        }

        @Override
        public CellResult.Coverage coverage() {
            return null;
        }

        @Override
        public Boolean fullyAccelerated() {
            return null;
        }

        @Override
        public void close() {}
    }

    /**
     * A sample's inputs compared by content: two different digits can share a hash, and the engine would then
     * replay another sample's answer (the reference kernels never differ from themselves).
     */
    private static final class InputKey {
        private final float[][] inputs;

        InputKey(float[][] inputs) {
            this.inputs = inputs;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof InputKey && Arrays.deepEquals(inputs, ((InputKey) other).inputs);
        }

        @Override
        public int hashCode() {
            return Arrays.deepHashCode(inputs);
        }
    }
}
