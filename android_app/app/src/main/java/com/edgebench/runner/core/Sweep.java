package com.edgebench.runner.core;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Every cell of a plan, one result JSON each, written atomically; cells already written are skipped
 * (resume). A paired plan (the gate's) is swept pair by pair, both models loaded and timed in ABBA
 * blocks. device_runner/sweep.py and cell.py, for a process that cannot fork one child per cell: the
 * host starts the app once per unit (``only``), so each cell's memory is its own process's, and once
 * per paired side for that side's memory alone; a process that measures a second unit says which
 * memory figures it lacks rather than report figures the first unit's load paid for. A cell that hangs
 * past cell_timeout_s is recorded as timeout and ends the sweep (the host resumes it in a fresh
 * process), and a cell during which the process died is found by its marker file on the next start and
 * recorded as crashed, so a crashing cell is never retried forever. An input set that cannot feed the
 * model stops the sweep with one line naming the input, as device_runner's does.
 */
public final class Sweep {
    /** Progress, once per cell: the instrumentation turns it into a status line the host can follow. */
    public interface Listener {
        void onCell(String cellId, String status, int index, int total, boolean skipped);
    }

    /** The sweep stopped early (a hung cell); finished cells are kept. */
    public static final class Stopped extends Exception {
        public Stopped(String message) {
            super(message);
        }
    }

    /** Memory fields a side loaded second in a process lacks: the runtime's start-up was paid before it. */
    static final List<String> SHARED_PROCESS_MISSING = Collections.unmodifiableList(
            Arrays.asList("load_delta_mb", "peak_rss_mb", "model_peak_mb"));
    /** Said on an ok cell whose busy cores could not be read (Android 8+ hides /proc/stat from apps). */
    static final String NO_BUSY_CORES = "noise guard: busy cores unknown (/proc/stat is not readable here), so "
            + "other processes' load was not checked; threads vs cores and thermal status were";
    /** A wrong_output cell's culprit note when --find-culprits asked: the app has no probe models (yet). */
    static final String CULPRIT_UNAVAILABLE = "culprit search not available on this runner (the Android app runs no "
            + "probe models; run the variant on a board or locally with --find-culprits)";
    private static final int OVERHEAD_READS = 20_000;

    private final Engine.Factory engines;
    private final Probes probes;
    private final Clock clock;
    private final Noise noise;
    private boolean engineOpened; // any model opened in this process: later loads find the runtime started

    public Sweep(Engine.Factory engines, Probes probes, Clock clock, Noise noise) {
        this.engines = engines;
        this.probes = probes;
        this.clock = clock;
        this.noise = noise;
    }

    /** A plan and its input set, read once. */
    private static final class Loaded {
        final Plan plan;
        final File planDir;
        final InputSet inputs;

        Loaded(File planFile) throws IOException, Schema.SchemaException {
            String text = new String(Files.readAllBytes(planFile.toPath()), StandardCharsets.UTF_8);
            plan = Schema.fromJson(text, Plan.class, planFile.toString());
            planDir = planFile.getAbsoluteFile().getParentFile();
            inputs = InputSet.read(new File(planDir, plan.inputSet));
        }

        /** A unit is measured in one go: one cell, or a baseline/candidate pair timed side by side. */
        List<CellKey[]> units() {
            List<CellKey[]> units = plan.pairs.isEmpty() ? new ArrayList<>() : plan.pairedCells();
            if (plan.pairs.isEmpty()) {
                for (CellKey key : plan.cells()) {
                    units.add(new CellKey[] {key});
                }
            }
            return units;
        }
    }

    public List<CellResult> run(File planFile, File resultsDir, Listener listener)
            throws IOException, Schema.SchemaException, Stopped {
        return run(planFile, resultsDir, listener, null);
    }

    /** ``only``: the id of one unit's first cell, measured alone (the host starts one process per unit); null: all. */
    public List<CellResult> run(File planFile, File resultsDir, Listener listener, String only)
            throws IOException, Schema.SchemaException, Stopped {
        Loaded loaded = new Loaded(planFile);
        probes.resetPeak(); // unpacking the .npz is the runner's transient, not the model's peak
        Plan plan = loaded.plan;
        List<CellKey[]> units = loaded.units();
        if (only != null) {
            units.removeIf(unit -> !unit[0].id().equals(only));
            if (units.isEmpty()) {
                throw new Schema.SchemaException(planFile + ": no unit " + only + " in this plan");
            }
        }
        int total = 0;
        for (CellKey[] unit : units) {
            total += unit.length;
        }
        List<CellResult> results = new ArrayList<>();
        // One unit per process: the cool-down between cells falls before this one if the run has results.
        String[] earlier = resultsDir.list((dir, name) -> name.endsWith(".json") && !name.startsWith("."));
        boolean measuredBefore = only != null && earlier != null && earlier.length > 0;
        for (CellKey[] unit : units) {
            Outcome outcome = sweepUnit(loaded, unit, resultsDir, measuredBefore);
            measuredBefore |= outcome.measured;
            for (int k = 0; k < unit.length; k++) {
                CellResult result = outcome.results.get(k);
                results.add(result);
                listener.onCell(unit[k].id(), result.status, results.size(), total, outcome.skipped);
            }
            if (outcome.measured && Schema.TIMEOUT.equals(outcome.results.get(0).status)) {
                throw new Stopped(unit[0].id() + " hung past " + plan.measure.cellTimeoutS + " s; resume to go on");
            }
        }
        return results;
    }

    /** A unit's results: read back (skipped), measured now, or neither (recorded as crashed). */
    private static final class Outcome {
        final List<CellResult> results;
        final boolean skipped;
        final boolean measured;

        Outcome(List<CellResult> results, boolean skipped, boolean measured) {
            this.results = results;
            this.skipped = skipped;
            this.measured = measured;
        }
    }

    /** One unit: read back when written, crashed when its marker says the process died in it, else measured. */
    private Outcome sweepUnit(Loaded loaded, CellKey[] unit, File resultsDir, boolean coolFirst)
            throws IOException, Schema.SchemaException {
        Plan plan = loaded.plan;
        File[] outs = new File[unit.length];
        File[] markers = new File[unit.length];
        boolean written = true;
        boolean died = false;
        for (int k = 0; k < unit.length; k++) {
            outs[k] = new File(resultsDir, unit[k].id() + ".json");
            markers[k] = new File(resultsDir, "." + unit[k].id() + ".running");
            written &= outs[k].isFile();
            died |= markers[k].isFile();
        }
        List<CellResult> results = new ArrayList<>();
        if (written) {
            for (File out : outs) {
                results.add(readResult(out));
            }
            return new Outcome(results, true, false);
        }
        if (died) {
            for (CellKey key : unit) {
                results.add(finish(header(plan, key), Schema.CRASHED, "the app's process died during this cell"));
            }
        } else {
            if (coolFirst && plan.measure.cooldownS > 0) {
                sleep(plan.measure.cooldownS); // heat from the last unit must not slow this one
            }
            for (int k = 0; k < unit.length; k++) {
                AtomicFiles.write(markers[k], unit[k].id());
            }
            try {
                results = timed(loaded, unit, resultsDir);
            } catch (Engine.InputsDoNotFit e) {
                for (File marker : markers) {
                    Files.deleteIfExists(marker.toPath()); // nothing died: the input set is at fault
                }
                throw new Schema.SchemaException(e.getMessage());
            }
        }
        // A half-written pair is measured again whole: both sides must come from one session.
        for (int k = 0; k < unit.length; k++) {
            AtomicFiles.write(outs[k], Schema.toJson(results.get(k)));
            Files.deleteIfExists(markers[k].toPath());
            Files.deleteIfExists(memoryFile(resultsDir, unit[k]).toPath());
        }
        return new Outcome(results, false, !died);
    }

    /**
     * One paired side's memory as a cell of its own measures it: load, first run and warm-up in this
     * (fresh) process, kept in a hidden file the pair then reads (device_runner/cell.py isolated_memory).
     * Nothing is written for a side already measured, or one that cannot load (the pair says why).
     */
    public void measureMemory(File planFile, File resultsDir, String cellId) throws IOException, Schema.SchemaException {
        Loaded loaded = new Loaded(planFile);
        probes.resetPeak();
        for (CellKey[] unit : loaded.units()) {
            for (CellKey key : unit) {
                File out = memoryFile(resultsDir, key);
                if (!key.id().equals(cellId)) {
                    continue;
                }
                if (new File(resultsDir, key.id() + ".json").isFile() || out.isFile()) {
                    return;
                }
                CellResult.Memory memory = onWorker(loaded.plan, () -> {
                    try (Side side = load(loaded, key)) {
                        return side.ownMemory(side.peakLessSamples(probes.peakRssMb()));
                    } catch (CannotRun e) {
                        return null;
                    }
                });
                if (memory != null) {
                    CellResult record = header(loaded.plan, key);
                    record.memory = memory;
                    AtomicFiles.write(out, Schema.toJson(finish(record, Schema.OK, "memory of this side alone")));
                }
                return;
            }
        }
        throw new Schema.SchemaException(planFile + ": no cell " + cellId + " in this plan");
    }

    static File memoryFile(File resultsDir, CellKey key) {
        return new File(resultsDir, "." + key.id() + ".memory.json"); // a dot-file: the host does not pull it
    }

    private static CellResult readResult(File file) throws IOException, Schema.SchemaException {
        String json = new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8);
        return Schema.fromJson(json, CellResult.class, file.toString());
    }

    /** ``work`` on a worker thread, given cell_timeout_s; null when it does not finish in time. */
    private <T> T onWorker(Plan plan, java.util.concurrent.Callable<T> work) {
        ExecutorService worker = Executors.newSingleThreadExecutor();
        try {
            return worker.submit(work).get((long) (plan.measure.cellTimeoutS * 1000), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            worker.shutdownNow();
        }
    }

    /** The unit on a worker thread, so a hung delegate becomes a timeout result instead of a silent stall. */
    private List<CellResult> timed(Loaded loaded, CellKey[] unit, File resultsDir) {
        Plan plan = loaded.plan;
        ExecutorService worker = Executors.newSingleThreadExecutor();
        try {
            Future<List<CellResult>> future = worker.submit(() -> unit.length == 2
                    ? pair(loaded, unit[0], unit[1], resultsDir)
                    : Collections.singletonList(cell(loaded, unit[0])));
            return future.get((long) (plan.measure.cellTimeoutS * 1000), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return failed(plan, unit, Schema.TIMEOUT, "no result within " + plan.measure.cellTimeoutS + " s");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Engine.InputsDoNotFit) {
                throw (Engine.InputsDoNotFit) e.getCause(); // every cell would fail alike: the sweep stops, saying why
            }
            return failed(plan, unit, Schema.CRASHED, String.valueOf(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed(plan, unit, Schema.CRASHED, "interrupted");
        } finally {
            worker.shutdownNow();
        }
    }

    private List<CellResult> failed(Plan plan, CellKey[] unit, String status, String message) {
        List<CellResult> out = new ArrayList<>();
        for (CellKey key : unit) {
            out.add(finish(header(plan, key), status, message));
        }
        return out;
    }

    CellResult cell(Loaded loaded, CellKey key) {
        Side side;
        try {
            side = load(loaded, key);
        } catch (CannotRun e) {
            return e.result;
        }
        try (Side s = side) {
            Plan.Measurement m = loaded.plan.measure;
            double overheadNs = RunLoop.timerOverheadNs(clock, OVERHEAD_READS);
            Noise.Guard guard = noise.start(key.threads);
            RunLoop.bounded(s.engine::invoke, m.runs, m.minS, m.maxS, clock, s.samples);
            s.conditions = guard.finish();
            double peak = s.peakLessSamples(probes.peakRssMb()); // before the summary, the accuracy pass, the references
            s.memory = s.sharedProcess ? s.sharedMemory() : s.ownMemory(peak);
            return result(s, loaded, overheadNs);
        } catch (RuntimeException e) {
            return finish(side.result, Schema.CRASHED, e.toString());
        }
    }

    /**
     * Which side times each block: 0 1 1 0 0 1 1 0 ..., {@code blocks} blocks a side, so drift hits
     * both alike (device_runner/cell.py's abba).
     */
    static int[] abba(int blocks) {
        int[] order = new int[2 * blocks];
        for (int k = 0; k < order.length; k++) {
            order[k] = k % 4 == 0 || k % 4 == 3 ? 0 : 1;
        }
        return order;
    }

    /**
     * Baseline and candidate loaded side by side and timed in interleaved ABBA blocks (the gate's
     * paired mode), as device_runner/cell.py's run_pair. Loaded second, a side would find the
     * runtime's start-up paid by the first: each side's memory is the one measured in a process of its
     * own (measureMemory), or, without it, both say which figures they lack. A side that cannot run
     * gets its status; the other is then measured on its own, as an ordinary cell.
     */
    List<CellResult> pair(Loaded loaded, CellKey baseline, CellKey candidate, File resultsDir) {
        CellKey[] keys = {baseline, candidate};
        Side[] sides = new Side[2];
        CellResult[] failures = new CellResult[2];
        for (int k = 0; k < 2; k++) {
            try {
                sides[k] = load(loaded, keys[k]);
            } catch (CannotRun e) {
                failures[k] = e.result;
            }
        }
        if (failures[0] != null || failures[1] != null) {
            List<CellResult> out = new ArrayList<>();
            for (int k = 0; k < 2; k++) {
                if (sides[k] != null) {
                    sides[k].close(); // measured alone, from a fresh load, as Python does
                }
            }
            for (int k = 0; k < 2; k++) {
                out.add(failures[k] != null ? failures[k] : cell(loaded, keys[k]));
            }
            return out;
        }
        try (Side a = sides[0]; Side b = sides[1]) {
            CellResult.Memory[] alone = {isolatedMemory(resultsDir, baseline), isolatedMemory(resultsDir, candidate)};
            for (int k = 0; k < 2; k++) {
                sides[k].memory = alone[0] != null && alone[1] != null ? alone[k] : sides[k].sharedMemory();
            }
            Plan.Measurement m = loaded.plan.measure;
            int blocks = Math.max(1, m.blocks);
            int perBlock = Math.max(1, m.runs / blocks);
            double overheadNs = RunLoop.timerOverheadNs(clock, OVERHEAD_READS);
            Noise.Guard guard = noise.start(baseline.threads);
            for (int index : abba(blocks)) {
                Side side = index == 0 ? a : b;
                side.blockLengths.add(RunLoop.bounded(side.engine::invoke, perBlock, m.minS / blocks, m.maxS, clock,
                        side.samples));
            }
            CellResult.Conditions conditions = guard.finish();
            a.conditions = conditions;
            b.conditions = conditions;
            List<CellResult> out = new ArrayList<>();
            out.add(result(a, loaded, overheadNs));
            out.add(result(b, loaded, overheadNs));
            return out;
        } catch (RuntimeException e) {
            // As a pair process that dies in device_runner: neither side has a measurement.
            List<CellResult> out = new ArrayList<>();
            for (Side side : sides) {
                out.add(finish(side.result, Schema.CRASHED, e.toString()));
            }
            return out;
        }
    }

    private static CellResult.Memory isolatedMemory(File resultsDir, CellKey key) {
        File file = memoryFile(resultsDir, key);
        try {
            return file.isFile() ? readResult(file).memory : null;
        } catch (IOException | Schema.SchemaException e) {
            return null; // a torn or foreign file: the pair says what it lacks instead
        }
    }

    /** One model opened, given its first inference and warmed up, ready to be timed (cell.py's Side). */
    private static final class Side implements AutoCloseable {
        final CellResult result; // the header; filled in when the side is finished
        final Engine engine;
        final long initNs;
        final double rssBefore;
        final double rssAfter;
        final boolean sharedProcess; // another model was opened in this process before this one
        long firstNs;
        int warmupRuns;
        SampleBuffer samples = new SampleBuffer(1); // sized from the warm-up's speed once it has run
        final List<Integer> blockLengths = new ArrayList<>();
        CellResult.Memory memory;
        CellResult.Conditions conditions;

        Side(CellResult result, Engine engine, long initNs, double rssBefore, double rssAfter, boolean sharedProcess) {
            this.result = result;
            this.engine = engine;
            this.initNs = initNs;
            this.rssBefore = rssBefore;
            this.rssAfter = rssAfter;
            this.sharedProcess = sharedProcess;
        }

        /** The process's peak less the sample buffer (resident since before the timed loop): the model's alone. */
        double peakLessSamples(double peakMb) {
            return peakMb - samples.bytes() / (double) (1 << 20);
        }

        CellResult.Memory ownMemory(double peakMb) {
            CellResult.Memory memory = new CellResult.Memory();
            memory.rssBeforeMb = rssBefore;
            memory.rssAfterLoadMb = rssAfter;
            memory.loadDeltaMb = rssAfter - rssBefore;
            memory.peakRssMb = peakMb;
            memory.modelPeakMb = peakMb - rssBefore;
            return memory;
        }

        /** What a side can say truthfully in a process another model's load already marked. */
        CellResult.Memory sharedMemory() {
            CellResult.Memory memory = new CellResult.Memory();
            memory.rssBeforeMb = rssBefore;
            memory.rssAfterLoadMb = rssAfter;
            memory.missing = new ArrayList<>(SHARED_PROCESS_MISSING);
            return memory;
        }

        @Override
        public void close() {
            engine.close();
        }
    }

    /** A cell that cannot be measured, with the result that says why. */
    private static final class CannotRun extends Exception {
        final transient CellResult result;

        CannotRun(CellResult result) {
            super(result.message);
            this.result = result;
        }
    }

    /** How a model with state is compared (cell.py's FRESH_STATE, word for word). */
    static final String FRESH_STATE =
            "fresh interpreter, the input set in order from the initial state (as the reference was made)";

    /** What the numerics check reads from a variant's file: its precision, and whether it keeps state. */
    private static final class Model {
        final Precision precision;
        final boolean stateful;
        final List<String> names; // each output's signature key; null: none, the tensors' names stand

        private Model(Precision precision, boolean stateful, List<String> names) {
            this.precision = precision;
            this.stateful = stateful;
            this.names = names;
        }

        /** Read from ``file``; a file the reader cannot follow is judged as float, without state or names. */
        static Model read(File file) {
            try {
                byte[] data = Files.readAllBytes(file.toPath());
                return new Model(ModelOps.precision(data), ModelOps.stateful(data), ModelOps.signatureOutputs(data));
            } catch (IOException | IllegalArgumentException e) {
                return new Model(Precision.floats(), false, null);
            }
        }
    }

    /**
     * The outputs scored; the labels against the output ``--labels-output`` names, when it names one (cell.py's
     * _accuracy).
     */
    private static CellResult.Accuracy scored(List<Samples> outputs, InputSet inputs, Plan plan, List<String> names,
            List<String> tensorNames) {
        String wanted = plan.measure.labelsOutput == null ? "" : plan.measure.labelsOutput;
        Integer chosen = wanted.isEmpty() ? null : Scoring.resolveOutput(wanted, names, tensorNames);
        if (!wanted.isEmpty() && chosen == null) {
            CellResult.Accuracy scored = Scoring.score(outputs, null, inputs.reference, plan.task, names, null);
            scored.labelsNote = "--labels-output " + wanted + " names no output (outputs: " + String.join(", ", names)
                    + ")";
            return scored;
        }
        return Scoring.score(outputs, inputs.labels, inputs.reference, plan.task, names, chosen);
    }

    /**
     * A model with state scored on a fresh engine fed the input set in order, as its reference was made: the
     * warm-up and the timed runs advanced the state of the one timed (cell.py's _scored_outputs).
     */
    private List<Samples> freshOutputs(File file, CellKey key, InputSet inputs) {
        Engine fresh;
        try {
            fresh = engines.open(file, key, inputs.shapes());
        } catch (Engine.DelegateUnavailable | Engine.DelegateFailed e) {
            throw new IllegalStateException("the engine that ran " + key.id() + " would not open again: " + e, e);
        }
        try {
            return predict(fresh, inputs);
        } finally {
            fresh.close();
        }
    }

    /** Open (timed), first inference and warm-up. */
    private Side load(Loaded loaded, CellKey key) throws CannotRun {
        Plan plan = loaded.plan;
        CellResult header = header(plan, key);
        File model = new File(loaded.planDir, plan.variant(key.variant).file);
        try { // the bytes measured, for the gate to tell two files apart; no file: the engine says why
            header.fileSha256 = model.isFile() ? Hashes.sha256(model) : null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Plan.Measurement m = plan.measure;
        boolean shared = engineOpened;
        engineOpened = true;
        double rssBefore = probes.rssMb();
        long start = clock.nanoTime();
        Engine engine;
        try {
            engine = engines.open(model, key, loaded.inputs.shapes());
        } catch (Engine.DelegateUnavailable e) {
            throw new CannotRun(finish(header, Schema.DELEGATE_UNAVAILABLE, e.getMessage()));
        } catch (Engine.DelegateFailed e) {
            throw new CannotRun(finish(header, Schema.DELEGATE_FAILED, e.getMessage()));
        } catch (Engine.InputsDoNotFit e) {
            throw doesNotFit(loaded, model, e);
        }
        long initNs = clock.nanoTime() - start;
        Side side = new Side(header, engine, initNs, rssBefore, probes.rssMb(), shared);
        try {
            engine.setInputs(loaded.inputs.sample(0));
        } catch (Engine.InputsDoNotFit e) {
            engine.close();
            throw doesNotFit(loaded, model, e);
        }
        try {
            start = clock.nanoTime();
            engine.invoke();
            side.firstNs = clock.nanoTime() - start;
            double[] warmup = RunLoop.counted(engine::invoke, m.warmupRuns, m.warmupMinS, m.maxS, clock);
            side.warmupRuns = (int) warmup[0];
            side.samples = new SampleBuffer(SampleBuffer.capacityFor(warmup[1], m.runs, m.minS, m.maxS));
            return side;
        } catch (RuntimeException e) {
            engine.close();
            throw new CannotRun(finish(header, Schema.CRASHED, e.toString()));
        }
    }

    private static Engine.InputsDoNotFit doesNotFit(Loaded loaded, File model, Engine.InputsDoNotFit e) {
        return new Engine.InputsDoNotFit(new File(loaded.planDir, loaded.plan.inputSet) + " does not fit "
                + model.getName() + ": " + e.getMessage());
    }

    /** Every output for every sample, one invoke each: per output, one flattened row per sample. */
    static List<Samples> predict(Engine engine, InputSet inputs) {
        List<float[][]> rows = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            engine.setInputs(inputs.sample(i));
            engine.invoke();
            float[][] sample = engine.outputs();
            for (int j = 0; j < sample.length; j++) {
                if (i == 0) {
                    rows.add(new float[inputs.size()][]);
                }
                rows.get(j)[i] = sample[j];
            }
        }
        List<Samples> outputs = new ArrayList<>();
        for (int j = 0; j < rows.size(); j++) {
            outputs.add(new Samples(engine.outputShapes().get(j), rows.get(j), false));
        }
        return outputs;
    }

    /**
     * A timed side's result: timing, memory, every output scored over the whole input set, the numerics
     * check against the same variant on the host's reference kernels, delegation (cell.py's _result).
     */
    private CellResult result(Side side, Loaded loaded, double overheadNs) {
        CellResult result = side.result;
        Plan plan = loaded.plan;
        InputSet inputs = loaded.inputs;
        result.timing = RunLoop.summarize(side.samples.toArray(), side.initNs, side.firstNs, side.warmupRuns, overheadNs);
        result.timing.blockLengths = new ArrayList<>(side.blockLengths);
        result.memory = side.memory;
        result.conditions = side.conditions;
        CellKey key = new CellKey(result.variant, result.delegate, result.threads, result.api);
        File file = new File(loaded.planDir, plan.variant(key.variant).file);
        Model model = Model.read(file);
        List<Samples> outputs = model.stateful ? freshOutputs(file, key, inputs) : predict(side.engine, inputs);
        List<String> tensorNames = side.engine.outputNames();
        List<String> names = model.names != null ? model.names : tensorNames;
        result.accuracy = scored(outputs, inputs, plan, names, tensorNames);
        List<Samples> expected;
        try {
            expected = inputs.variantReference(result.variant);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (expected != null) {
            // Class distributions judged as the accuracy scores judge them: on the host fp32 outputs where there are some.
            boolean hostFp32 = inputs.reference != null && !inputs.reference.isEmpty();
            List<Integer> classes = Scoring.classCounts(hostFp32 ? inputs.reference : expected, inputs.labels, plan.task);
            result.numerics = NumericsCheck.compare(outputs, expected, names, classes, plan.measure.numericsMinAgreement,
                    plan.measure.numericsMinCosine, model.precision, plan.measure, model.stateful ? FRESH_STATE : "");
        }
        result.coverage = side.engine.coverage();
        result.fullyAccelerated = side.engine.fullyAccelerated();
        String runtime = engines.runtime(result.api);
        result.opProfile = new CellResult.OpProfile(runtime, "per-op time is not available on " + runtime);
        if (result.numerics != null && !result.numerics.passed) {
            String message = NumericsCheck.message(result.numerics, result.delegate);
            if (plan.measure.findCulprits) {
                result.culprit = CellResult.Culprit.unavailable(CULPRIT_UNAVAILABLE);
                message += "; " + result.culprit.line();
            }
            return finish(result, Schema.WRONG_OUTPUT, message);
        }
        boolean blind = result.conditions != null && result.conditions.during.busyCores == null;
        String note = side.engine.note();
        return finish(result, Schema.OK, blind ? (note.isEmpty() ? NO_BUSY_CORES : note + "; " + NO_BUSY_CORES) : note);
    }

    private CellResult header(Plan plan, CellKey key) {
        CellResult r = new CellResult();
        r.runId = plan.runId;
        r.variant = key.variant;
        r.delegate = key.delegate;
        r.threads = key.threads;
        r.api = key.api;
        r.device = probes.facts(engines.runtime(key.api), engines.runtimeVersion(key.api));
        r.startedAt = now();
        r.temperatureBeforeC = probes.temperaturesC();
        return r;
    }

    private CellResult finish(CellResult r, String status, String message) {
        r.status = status;
        r.message = message == null ? "" : message;
        r.temperatureAfterC = probes.temperaturesC();
        r.finishedAt = now();
        return r;
    }

    private static String now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    }

    private static void sleep(double seconds) {
        try {
            Thread.sleep((long) (seconds * 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
