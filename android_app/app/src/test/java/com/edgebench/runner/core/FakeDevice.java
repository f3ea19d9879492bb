package com.edgebench.runner.core;

import java.io.File;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A pretend phone for the core's tests: an engine whose answer is a function of its input. */
final class FakeDevice implements Engine.Factory, Probes {
    final List<String> opened = new ArrayList<>();
    long hangMillis = 0; // > 0: invoke sleeps this long (a hung delegate)
    final Set<String> failingVariants = new HashSet<>(); // their delegate cannot prepare the graph
    final List<String> invoked = new ArrayList<>(); // the variant of every invoke, in order


    @Override
    public Engine open(File model, CellKey key) throws Engine.DelegateUnavailable, Engine.DelegateFailed {
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
                return new Classifier(hangMillis, () -> invoked.add(key.variant));
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
        return 100.0 + opened.size();
    }

    @Override
    public double peakRssMb() {
        return 200.0;
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
        return f;
    }

    @Override
    public Map<String, Double> temperaturesC() {
        Map<String, Double> t = new LinkedHashMap<>();
        t.put("cpu", 40.0);
        return t;
    }

    /** Class = (sum of the input) mod classes: deterministic, so accuracy can be checked. */
    static final class Classifier implements Engine {
        private final long hangMillis;
        private final Runnable onInvoke;
        private float[] input = new float[0];

        Classifier(long hangMillis, Runnable onInvoke) {
            this.hangMillis = hangMillis;
            this.onInvoke = onInvoke;
        }

        @Override
        public void setInput(float[] input) {
            this.input = input.clone();
        }

        @Override
        public void invoke() {
            onInvoke.run();
            if (hangMillis > 0) {
                try {
                    Thread.sleep(hangMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public float[] output() {
            return oneHot(input, 10);
        }

        static float[] oneHot(float[] input, int classes) {
            double sum = 0;
            for (float v : input) {
                sum += v;
            }
            float[] out = new float[classes];
            out[(int) (sum % classes)] = 1f;
            return out;
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
}
