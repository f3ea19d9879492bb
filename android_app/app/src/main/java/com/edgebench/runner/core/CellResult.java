package com.edgebench.runner.core;

import com.google.gson.annotations.SerializedName;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One cell's result: edgebench_records/protocol.py's CellResult, field for field. */
public final class CellResult {
    public String runId;
    public String variant;
    public String delegate;
    public int threads;
    public String status;
    public String api = "interpreter";
    public String message = "";
    public Timing timing;
    public Memory memory;
    public Accuracy accuracy;
    public Coverage coverage;
    public Boolean fullyAccelerated;
    public List<String> modelOps = new ArrayList<>();
    public List<Integer> pinnedCpus = new ArrayList<>();
    public DeviceFacts device;
    public Map<String, Double> temperatureBeforeC = new LinkedHashMap<>();
    public Map<String, Double> temperatureAfterC = new LinkedHashMap<>();
    public String startedAt = "";
    public String finishedAt = "";
    public Conditions conditions; // the noise guard; null when the cell failed before its timed loop
    public OpProfile opProfile; // per-op time: LiteRT's Java APIs have no profiler, so an ok cell says so
    public Numerics numerics; // null: not checked (no reference for this variant, or one for other inputs)
    public Placement placement; // null: Android's Interpreter API gives no per-node placement
    public String fileSha256; // the variant file as this cell loaded it; null when it failed before
    public Culprit culprit; // null: not searched; the app cannot search, and says so when asked (findCulprits)
    // How the timed runs were scheduled and why they stopped (Sweep's units, StopRule); null when the cell failed
    // before its timed loop, as device_runner writes it.
    public Schedule schedule;
    public String schemaVersion = Schema.VERSION;

    public static final class Timing {
        public double initMs;
        public Double firstMs;
        public int warmupRuns;
        public List<Double> samplesMs = new ArrayList<>();
        public Double p50Ms;
        public Double p90Ms;
        public Double p99Ms;
        public double meanMs;
        public Double stdMs;
        public Double minMs;
        public Double maxMs;
        public Double timerOverheadMs;
        public List<Integer> blockLengths = new ArrayList<>();
        public List<String> missing = new ArrayList<>();
        public Double p5Ms; // with p95: what benchmark_model prints beside its median
        public Double p95Ms;
    }

    /**
     * How a cell's timed runs were scheduled and why they stopped (edgebench_records/protocol.py Schedule, 1.7):
     * cells of one ``group`` were timed in one process in alternating blocks (Timing.blockLengths).
     */
    public static final class Schedule {
        public String group; // a token shared by the cells timed together; "" when timed alone
        public int groupSize; // cells in the group (1 alone)
        public int rounds; // blocks this cell was timed in
        public StopRule.Reason stop;
        public double precision; // asked: 0 for fixed
        public Double halfWidth; // relative half-width of the 95 % interval at the stop (p50, or a pair's ratio)
        public double timedS; // seconds this cell's timed runs took
    }

    public static final class Memory {
        public Double rssBeforeMb;
        public Double rssAfterLoadMb;
        public Double loadDeltaMb;
        public Double peakRssMb;
        public List<String> missing = new ArrayList<>();
        // 1.7: the model's own cost, as the tables show it
        public Double modelPeakMb; // peakRssMb less rssBeforeMb: the peak above the runner's baseline
    }

    /** Scores of the outputs; the single figures are of the scored output (edgebench_records/protocol.py Accuracy). */
    public static final class Accuracy {
        public int n;
        public Double top1;
        public Double fp32Agreement;
        public Double maxAbsDiff;
        public Double meanAbsDiff;
        public List<Boolean> correct = new ArrayList<>();
        public List<Boolean> agree = new ArrayList<>(); // per sample: same top-1 as the host fp32 model
        public String task = "auto"; // classification | regression | other as scored
        public Double top5;
        public Double mae;
        public String labelsNote = "";
        public String referenceNote = "";
        public List<OutputFidelity> outputs = new ArrayList<>(); // every output against the host fp32 outputs
    }

    /** One output against a reference (edgebench_records/protocol.py OutputFidelity). */
    public static final class OutputFidelity {
        public int index;
        public String name;
        public Double cosine; // null for an output of fewer than Scoring.SMALL_OUTPUT values a sample
        public Double minCosine;
        public Double snrDb;
        public double maxAbsDiff;
        public double meanAbsDiff;
        public Integer classes; // null: not a class distribution
        public Double agreement; // null unless a class distribution (over decisive samples in numerics)
        public Double rmsDiff; // RMS of the difference, in the output's own unit
        public Double relError; // rmsDiff / the reference's spread
        public Double step; // the output's quantisation step; null for a float output
        public Double maxSteps; // maxAbsDiff in those steps
        public Integer decisive; // samples whose reference top-1 margin exceeds the near-tie margin
        public int nearTies; // top-1 disagreements on the other samples
        public String failure = ""; // NumericsCheck's failure class, "" when it passed
    }

    public static final class Coverage {
        public int delegatedNodes;
        public int totalNodes;

        public Coverage(int delegatedNodes, int totalNodes) {
            this.delegatedNodes = delegatedNodes;
            this.totalNodes = totalNodes;
        }
    }

    /** What the device was doing over one window around a cell (device_runner/noise.py). */
    public static final class Activity {
        public double windowS;
        @SerializedName("load_avg_1m") // the naming policy would write load_avg1m
        public Double loadAvg1m;
        public Double busyCores;
        public Double othersBusyCores;
        public Map<String, Double> cpuMhz = new LinkedHashMap<>();
        public String throttled;
        public List<String> thermal = new ArrayList<>();
    }

    /** Whether the cell was measured under contention, and why. */
    public static final class Conditions {
        public int availableCores;
        public int threads;
        public String governor;
        public Activity before;
        public Activity during;
        public Activity after;
        public boolean contended;
        public List<String> reasons = new ArrayList<>();
    }

    /** The outputs against the same variant on the host's reference kernels (device_runner/accuracy.py). */
    public static final class Numerics {
        public int n;
        public String output; // the worst output's index and name
        public Double agreement; // null when that output is no class distribution
        public Double cosine; // null for an output of fewer than Scoring.SMALL_OUTPUT values a sample
        public Double minCosine;
        public double maxAbsDiff;
        public double minAgreementAllowed;
        public double minCosineAllowed;
        public boolean passed; // every output held to the tolerances
        public List<OutputFidelity> outputs = new ArrayList<>(); // every output compared
        public String failure = ""; // the worst output's failure class when the check failed
        public Double maxErrorAllowed; // its RMS error allowed, as a share of the reference's spread
        public Double maxStepsAllowed; // the error always allowed a quantised output, in its steps
        public String state = ""; // how a model with state was compared; "" without state
    }

    /** One op and its drift from the reference kernels (edgebench_records/protocol.py OpDrift). */
    public static final class OpDrift {
        public int index;
        public String op;
        public String tensor;
        public double drift;
    }

    /**
     * Which op broke a wrong_output cell (edgebench_records/protocol.py Culprit). The app runs the probe's delegated
     * half only: it says where the outputs are (``probed``), and the host runs the reference half and fills the
     * rest in before the result is stored (edgebench/devices/android.py).
     */
    public static final class Culprit {
        static final String METHOD = "exposed_outputs"; // protocol.py CulpritMethod.EXPOSED_OUTPUTS
        /** The note of a probe whose outputs wait for the host (android.py PROBE_OUTPUTS, word for word). */
        static final String PROBE_OUTPUTS = "probe outputs in the results folder as ";

        public String method = "";
        public OpDrift found;
        public List<OpDrift> after = new ArrayList<>();
        public double tolerance;
        public int samples;
        public int comparedOps;
        public Integer probeDelegatedNodes;
        public Integer cellDelegatedNodes;
        public String note = "";

        /** A runner that cannot search says so, and names no op. */
        static Culprit unavailable(String why) {
            Culprit c = new Culprit();
            c.note = why;
            return c;
        }

        /** A probe that did not run under the cell's delegate (culprit.py not_run, word for word). */
        static Culprit notRun(String why) {
            Culprit c = unavailable("the probe model (every op's outputs exposed) did not run: " + why);
            c.method = METHOD;
            return c;
        }

        /** The probe ran on ``samples`` inputs and its outputs are in ``file``, for the host to judge. */
        static Culprit probed(int samples, Integer probeNodes, Integer cellNodes, String file) {
            Culprit c = unavailable(PROBE_OUTPUTS + file);
            c.method = METHOD;
            c.samples = samples;
            c.probeDelegatedNodes = probeNodes;
            c.cellDelegatedNodes = cellNodes;
            return c;
        }

        /** Culprit.line of the Python record, for a search that named no op. */
        String line() {
            return note.isEmpty() ? "culprit: none named" : "culprit: none named (" + note + ")";
        }
    }

    /** Which delegate partition ran each node, -1 for plain kernels (edgebench_records/protocol.py Placement). */
    public static final class Placement {
        public List<String> nodeOps = new ArrayList<>();
        public List<Integer> nodePartition = new ArrayList<>();
        public List<String> nodeKeys = new ArrayList<>(); // 1.8: each node's key beside its op (ModelOps.nodeKeys)
    }

    public static final class DeviceFacts {
        public String runtime;
        public String runtimeVersion;
        public String python = "-"; // no Python on a phone: the app is the runner
        public String numpy = "-";
        public String machine;
        public String cpuModel;
        public int cores;
        public String os;
        public String kernel;
        public String governor;
        public Double ramMb;
        public String boardModel; // an ARM board's own words (device tree): null on a phone, not looked at
        public String cpuCores; // "4× Cortex-A72" from cpuinfo: null, not looked at
        public String emulated; // why the timings mean nothing (an emulator), else null
        public List<String> cpuFeatures; // CpuFeatures.parse of /proc/cpuinfo: null, not read
    }

    /** edgebench_records/protocol.py's OpProfile: rows only where the runtime profiles ops (never here), else why not. */
    public static final class OpProfile {
        public String source;
        public List<Object> ops = new ArrayList<>();
        public String note;

        public OpProfile(String source, String note) {
            this.source = source;
            this.note = note;
        }
    }
}
