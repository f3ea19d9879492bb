package com.edgebench.runner.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the host asks for: edgebench_records/protocol.py's Plan. Filled by Gson; fields mirror the JSON. */
public final class Plan {
    public String runId;
    public String modelName;
    public List<Variant> variants = new ArrayList<>();
    public String inputSet; // .npz beside the plan (device_runner/inputs.py): inputs, labels, references
    public String task = "auto"; // what the outputs mean (converter's --task): how they are scored
    public Measurement measure = new Measurement();
    public List<Pair> pairs = new ArrayList<>();
    public Search tune; // an `edgebench tune` plan's aim (null: not a search); the app measures its variants as any
    public String schemaVersion = Schema.PLAN_VERSION;

    public static final class Variant {
        public String name;
        public String file; // relative to the plan's directory
        public String sha256;
        public String recipe = ""; // a tune's candidate: the recipe that made it ("": the variant is its recipe)
        public Map<String, Double> settings = new LinkedHashMap<>(); // and the options it set for it
        // Plan 1.7: the probe model beside the variant (every op's outputs exposed, device_runner/culprit.py), named
        // when --find-culprits asked; "": none (the host made none, or an older plan).
        public String probe = "";
    }

    /** edgebench_records/tune.py's Search: carried through, never read by the app. */
    public static final class Search {
        public String objective;
        public double maxAccuracyDrop;
    }

    public static final class Pair {
        public String baseline;
        public String candidate;
    }

    public static final class Measurement {
        // Arrays.asList, not List.of: List.of needs API 30 and the app runs from API 26.
        public List<String> delegates = new ArrayList<>(Arrays.asList("xnnpack", "cpu"));
        public List<Integer> threads = new ArrayList<>(Arrays.asList(1));
        public List<String> apis = new ArrayList<>(Arrays.asList("interpreter"));
        public int warmupRuns = 1;
        public double warmupMinS = 0.5;
        public int runs = 50;
        public double minS = 1.0;
        public double maxS = 150.0;
        public double cellTimeoutS = 600.0;
        public String runtime;
        public List<Integer> cpus = new ArrayList<>();
        public double cooldownS = 0.0;
        public int blocks = 20; // timed blocks a cell when interleaved or adaptive (a pair's: the gate's --blocks)
        // Adaptive mode (docs/measuring.md): 0 times runs / min_s as asked; P stops a unit once the 95 % interval of
        // each p50 (a pair with a stop_floor: of the ratio) is within ±P, after min_s and at most max_s (StopRule).
        public double precision = 0.0;
        // The variants of one delegate/API/threads configuration timed in one process in alternating blocks
        // (plans before 1.5: each cell alone; upgraded()).
        public boolean interleave = true;
        public Double stopFloor; // a paired plan's decision threshold, 1 + the gate's latency floor; null: none
        public double stopAlpha = 0.005; // and the significance a regression needs there (the gate's alpha)
        public double numericsMinAgreement = 0.97;
        public double numericsMinCosine = 0.99;
        public double numericsMaxError = 0.05; // edgebench_records/protocol.py Measurement, docs/trust.md says why
        public double numericsMaxErrorQuantized = 0.5;
        public double numericsMaxSteps = 3.0;
        public String labelsOutput = ""; // the output the labels score (its name, tensor name or index); "": the class head
        public boolean findCulprits; // a wrong_output cell runs its variant's probe (Sweep.probePass)
    }

    /**
     * Whether ``result`` is a cell of this plan: of its run and, where both are hashed, of the file this plan names
     * (edgebench_records' Plan.owns). Another plan's result left under the same name is measured again.
     */
    public boolean owns(CellResult result) {
        if (result.runId == null || !result.runId.equals(runId)) {
            return false;
        }
        for (Variant variant : variants) {
            if (variant.name.equals(result.variant)) {
                boolean hashed = result.fileSha256 != null && !result.fileSha256.isEmpty()
                        && variant.sha256 != null && !variant.sha256.isEmpty();
                return !hashed || result.fileSha256.equals(variant.sha256);
            }
        }
        return false;
    }

    /** Every cell, in the order device_runner sweeps them: variant, then API, delegate, threads. */
    public List<CellKey> cells() {
        List<String> names = new ArrayList<>();
        for (Pair pair : pairs) {
            names.add(pair.baseline);
            names.add(pair.candidate);
        }
        if (names.isEmpty()) {
            for (Variant variant : variants) {
                names.add(variant.name);
            }
        }
        List<CellKey> cells = new ArrayList<>();
        for (String name : names) {
            for (String api : measure.apis) {
                for (String delegate : measure.delegates) {
                    for (int threads : measure.threads) {
                        cells.add(new CellKey(name, delegate, threads, api));
                    }
                }
            }
        }
        return cells;
    }

    /**
     * Baseline and candidate cells timed side by side (a paired plan, the gate's), in the order of
     * device_runner's Plan.paired_cells: pair, then API, delegate, threads. Empty for an ordinary plan.
     */
    public List<CellKey[]> pairedCells() {
        List<CellKey[]> units = new ArrayList<>();
        for (Pair pair : pairs) {
            for (String api : measure.apis) {
                for (String delegate : measure.delegates) {
                    for (int threads : measure.threads) {
                        units.add(new CellKey[] {
                            new CellKey(pair.baseline, delegate, threads, api),
                            new CellKey(pair.candidate, delegate, threads, api)
                        });
                    }
                }
            }
        }
        return units;
    }

    /**
     * What one process times, as device_runner's Plan.units: a pair (ABBA blocks), the variants of one
     * delegate/API/threads configuration (interleaved), or one cell (a plan that does not interleave).
     */
    public List<CellKey[]> units() {
        if (!pairs.isEmpty()) {
            return pairedCells();
        }
        List<CellKey[]> units = new ArrayList<>();
        if (!measure.interleave) {
            for (CellKey key : cells()) {
                units.add(new CellKey[] {key});
            }
            return units;
        }
        for (String api : measure.apis) {
            for (String delegate : measure.delegates) {
                for (int threads : measure.threads) {
                    CellKey[] unit = new CellKey[variants.size()];
                    for (int k = 0; k < unit.length; k++) {
                        unit[k] = new CellKey(variants.get(k).name, delegate, threads, api);
                    }
                    units.add(unit);
                }
            }
        }
        return units;
    }

    /**
     * This plan as device_runner reads it: plans before 1.5 timed each cell alone for a fixed duration, so a
     * resume of one keeps doing so (protocol.py's 1.4 to 1.5 step).
     */
    Plan upgraded() {
        String[] version = schemaVersion == null ? new String[0] : schemaVersion.split("\\.");
        if (version.length == 2 && version[0].equals("1") && version[1].matches("[0-4]")) {
            measure.interleave = false;
        }
        return this;
    }

    public Variant variant(String name) {
        for (Variant variant : variants) {
            if (variant.name.equals(name)) {
                return variant;
            }
        }
        throw new IllegalArgumentException("no variant " + name + " in the plan");
    }
}
