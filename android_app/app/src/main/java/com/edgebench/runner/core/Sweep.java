package com.edgebench.runner.core;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Every cell of a plan, one result JSON each, written atomically; cells already written are skipped
 * (resume). device_runner/sweep.py and cell.py, for a process that cannot fork one child per unit: the
 * units are device_runner's (a gate's pair; with the plan's interleave, the variants of one
 * delegate/API/threads configuration; else one cell), each unit's cells loaded side by side and timed in
 * serpentine rounds of one block each until the StopRule says so (fixed rounds, or adaptive), and each
 * timed cell says so in its schedule. The host starts the app once per unit (``only``), and once per side
 * of a unit of several for that side's memory alone (measureMemory): a side loaded beside others, or in a
 * process that measured another unit, says which memory figures it lacks rather than report figures
 * another load paid for. A unit that hangs past its timeout is recorded as timeout and ends the sweep (the
 * host resumes it in a fresh process), and a unit during which the process died is found by its marker
 * files on the next start: a cell that died alone is recorded as crashed, so it is never retried forever,
 * and the cells of a group that died are timed one by one, so only the one at fault is. An input set that
 * cannot feed the model stops the sweep with one line naming the input, as device_runner's does.
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
    /** The inputs a probe runs on (device_runner/culprit.py PROBE_SAMPLES). */
    static final int PROBE_SAMPLES = 8;
    static final String DIED = "the app's process died during this cell";
    private static final int OVERHEAD_READS = 20_000;
    private static final SecureRandom TOKENS = new SecureRandom();

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
            plan = Schema.fromJson(text, Plan.class, planFile.toString()).upgraded();
            planDir = planFile.getAbsoluteFile().getParentFile();
            inputs = InputSet.read(new File(planDir, plan.inputSet));
        }

        /** A gate's pair is never split nor half measured: both sides come from one session, block by block. */
        boolean paired() {
            return !plan.pairs.isEmpty();
        }
    }

    public List<CellResult> run(File planFile, File resultsDir, Listener listener)
            throws IOException, Schema.SchemaException, Stopped {
        return run(planFile, resultsDir, listener, null);
    }

    /**
     * ``only``: the id of a cell whose unit alone is measured (the host starts one process per unit and names it by
     * any of its cells: those already written are then skipped without starting the app); null: all.
     */
    public List<CellResult> run(File planFile, File resultsDir, Listener listener, String only)
            throws IOException, Schema.SchemaException, Stopped {
        Loaded loaded = new Loaded(planFile);
        probes.resetPeak(); // unpacking the .npz is the runner's transient, not the model's peak
        Plan plan = loaded.plan;
        List<CellKey[]> units = plan.units();
        if (only != null) {
            units.removeIf(unit -> !ids(Arrays.asList(unit)).contains(only));
            if (units.isEmpty()) {
                throw new Schema.SchemaException(planFile + ": no unit " + only + " in this plan");
            }
        }
        int total = 0;
        for (CellKey[] unit : units) {
            total += unit.length;
        }
        List<CellResult> results = new ArrayList<>();
        // One unit per process: the cool-down between units falls before this one if the run has results.
        String[] earlier = resultsDir.list((dir, name) -> name.endsWith(".json") && !name.startsWith("."));
        boolean measuredBefore = only != null && earlier != null && earlier.length > 0;
        for (CellKey[] unit : units) {
            Outcome outcome = sweepUnit(loaded, unit, resultsDir, measuredBefore);
            measuredBefore |= outcome.measured;
            for (int k = 0; k < unit.length; k++) {
                CellResult result = outcome.results.get(k);
                results.add(result);
                listener.onCell(unit[k].id(), result.status, results.size(), total, outcome.skipped[k]);
            }
        }
        return results;
    }

    private static List<String> ids(List<CellKey> keys) {
        List<String> ids = new ArrayList<>();
        for (CellKey key : keys) {
            ids.add(key.id());
        }
        return ids;
    }

    /** A unit's results: each read back (skipped), measured now, or recorded as crashed. */
    private static final class Outcome {
        final List<CellResult> results;
        final boolean[] skipped;
        final boolean measured;

        Outcome(List<CellResult> results, boolean[] skipped, boolean measured) {
            this.results = results;
            this.skipped = skipped;
            this.measured = measured;
        }
    }

    private static File resultFile(File resultsDir, CellKey key) {
        return new File(resultsDir, key.id() + ".json");
    }

    /** Says the process is inside ``key``'s timing, and beside which cells (one id a line): see afterDeath. */
    private static File marker(File resultsDir, CellKey key) {
        return new File(resultsDir, "." + key.id() + ".running");
    }

    /**
     * One unit: its written cells read back, the others measured together (device_runner's resume: a unit's
     * missing cells are timed among themselves, each exactly once). A half-written pair is measured again whole.
     */
    private Outcome sweepUnit(Loaded loaded, CellKey[] unit, File resultsDir, boolean coolFirst)
            throws IOException, Schema.SchemaException, Stopped {
        List<CellKey> todo = new ArrayList<>();
        for (CellKey key : unit) {
            File file = resultFile(resultsDir, key);
            if (!file.isFile() || !loaded.plan.owns(readResult(file))) {
                Files.deleteIfExists(file.toPath()); // another plan's result under this name: measured again
                todo.add(key);
            }
        }
        if (loaded.paired() && !todo.isEmpty()) {
            todo = Arrays.asList(unit);
        }
        List<List<CellKey>> groups = new ArrayList<>();
        Map<String, CellResult> found = afterDeath(loaded, todo, resultsDir, groups);
        for (List<CellKey> group : groups) {
            if (coolFirst && loaded.plan.measure.cooldownS > 0) {
                sleep(loaded.plan.measure.cooldownS); // heat from the last cells must not slow these
            }
            coolFirst = true;
            found.putAll(measured(loaded, group, resultsDir));
        }
        List<String> measuring = ids(todo);
        boolean[] skipped = new boolean[unit.length];
        List<CellResult> results = new ArrayList<>();
        for (int k = 0; k < unit.length; k++) {
            skipped[k] = !measuring.contains(unit[k].id());
            results.add(skipped[k] ? readResult(resultFile(resultsDir, unit[k])) : found.get(unit[k].id()));
        }
        return new Outcome(results, skipped, !groups.isEmpty());
    }

    /**
     * The cells a process died in, recorded; the rest put in ``groups`` to be timed. A cell whose marker names it
     * alone killed the process and is recorded as crashed (never retried forever); a cell whose marker names its
     * group died with the group, and which cell did it is unknown, so each is timed alone (device_runner's sweep
     * does the same). A pair is never split: a side alone has no blocks to pair, so both keep the crash. The
     * cells without a marker are timed together.
     */
    private Map<String, CellResult> afterDeath(Loaded loaded, List<CellKey> keys, File resultsDir,
            List<List<CellKey>> groups) throws IOException {
        Map<String, CellResult> found = new HashMap<>();
        List<CellKey> together = new ArrayList<>();
        boolean pairDied = false;
        for (CellKey key : keys) {
            File marker = marker(resultsDir, key);
            if (!marker.isFile()) {
                together.add(key);
            } else if (loaded.paired()) {
                pairDied = true;
            } else if (new String(Files.readAllBytes(marker.toPath()), StandardCharsets.UTF_8).contains("\n")) {
                groups.add(Collections.singletonList(key));
            } else {
                found.put(key.id(), write(resultsDir, key, finish(header(loaded.plan, key), Schema.CRASHED, DIED)));
            }
        }
        if (pairDied) {
            for (CellKey key : keys) {
                found.put(key.id(), write(resultsDir, key, finish(header(loaded.plan, key), Schema.CRASHED, DIED)));
            }
        } else if (!together.isEmpty()) {
            groups.add(0, together);
        }
        return found;
    }

    /**
     * ``keys`` timed together, each result written as it comes; a group (not a pair) whose timing threw is timed
     * again cell by cell, here, so only the cell at fault keeps the failure; one that hung leaves its markers
     * and stops the sweep, so the next process times its cells one by one. A cell or pair that hung is recorded
     * as timeout and stops the sweep too: its thread still runs here, and would slow whatever came next.
     */
    private Map<String, CellResult> measured(Loaded loaded, List<CellKey> keys, File resultsDir)
            throws IOException, Schema.SchemaException, Stopped {
        String names = String.join("\n", ids(keys));
        for (CellKey key : keys) {
            AtomicFiles.write(marker(resultsDir, key), names);
        }
        List<CellResult> results;
        try {
            results = timed(loaded, keys, resultsDir);
        } catch (Engine.InputsDoNotFit e) {
            for (CellKey key : keys) {
                Files.deleteIfExists(marker(resultsDir, key).toPath()); // nothing died: the input set is at fault
            }
            throw new Schema.SchemaException(e.getMessage());
        }
        boolean splits = keys.size() > 1 && !loaded.paired();
        Map<String, CellResult> found = new HashMap<>();
        if (results == null && splits) {
            for (CellKey key : keys) {
                found.putAll(measured(loaded, Collections.singletonList(key), resultsDir));
            }
            return found;
        }
        if (splits && Schema.TIMEOUT.equals(results.get(0).status)) {
            throw new Stopped(String.join(", ", ids(keys)) + ", timed together, hung: " + results.get(0).message
                    + "; resume to time each alone");
        }
        for (int k = 0; k < keys.size(); k++) {
            found.put(keys.get(k).id(), write(resultsDir, keys.get(k), results.get(k)));
        }
        if (Schema.TIMEOUT.equals(results.get(0).status)) {
            throw new Stopped(keys.get(0).id() + " hung: " + results.get(0).message + "; resume to go on");
        }
        return found;
    }

    private static CellResult write(File resultsDir, CellKey key, CellResult result) throws IOException {
        AtomicFiles.write(resultFile(resultsDir, key), Schema.toJson(result));
        Files.deleteIfExists(marker(resultsDir, key).toPath());
        Files.deleteIfExists(memoryFile(resultsDir, key).toPath());
        return result;
    }

    /**
     * One side's memory as a cell of its own measures it: load, first run and warm-up in this (fresh) process,
     * kept in a hidden file the unit then reads (device_runner/cell.py isolated_memory). Nothing is written for a
     * side already measured, or one that cannot load (the unit says why).
     */
    public void measureMemory(File planFile, File resultsDir, String cellId) throws IOException, Schema.SchemaException {
        Loaded loaded = new Loaded(planFile);
        probes.resetPeak();
        for (CellKey[] unit : loaded.plan.units()) {
            for (CellKey key : unit) {
                File out = memoryFile(resultsDir, key);
                if (!key.id().equals(cellId)) {
                    continue;
                }
                if (resultFile(resultsDir, key).isFile() || out.isFile()) {
                    return;
                }
                CellResult.Memory memory = onWorker(loaded.plan, () -> {
                    try (Side side = load(loaded, key)) {
                        side.readPeak(probes);
                        return side.ownMemory();
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

    /**
     * The cells on a worker thread, so a hung delegate becomes a timeout result instead of a silent stall; cells
     * timed together share the timeout of them all (as device_runner's sweep). Null: the timing threw, in a group
     * that is not a pair (the caller times its cells one by one).
     */
    private List<CellResult> timed(Loaded loaded, List<CellKey> keys, File resultsDir) {
        Plan plan = loaded.plan;
        double timeoutS = plan.measure.cellTimeoutS * keys.size();
        ExecutorService worker = Executors.newSingleThreadExecutor();
        try {
            Future<List<CellResult>> future = worker.submit(() -> unit(loaded, keys, resultsDir));
            return future.get((long) (timeoutS * 1000), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return failed(plan, keys, Schema.TIMEOUT, "no result within " + timeoutS + " s");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Engine.InputsDoNotFit) {
                throw (Engine.InputsDoNotFit) e.getCause(); // every cell would fail alike: the sweep stops, saying why
            }
            return keys.size() > 1 && !loaded.paired() ? null : failed(plan, keys, Schema.CRASHED,
                    String.valueOf(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed(plan, keys, Schema.CRASHED, "interrupted");
        } finally {
            worker.shutdownNow();
        }
    }

    private List<CellResult> failed(Plan plan, List<CellKey> keys, String status, String message) {
        List<CellResult> out = new ArrayList<>();
        for (CellKey key : keys) {
            out.add(finish(header(plan, key), status, message));
        }
        return out;
    }

    /**
     * Which side times each block of a round: forward on even rounds, backward on odd ones (two sides: A B, B A,
     * A B, ... the gate's ABBA order), so a drift over the rounds hits every side alike (cell.py's serpentine).
     */
    static int[] serpentine(int sides, int round) {
        int[] order = new int[sides];
        for (int k = 0; k < sides; k++) {
            order[k] = round % 2 == 0 ? k : sides - 1 - k;
        }
        return order;
    }

    /** How a unit's blocks stopped. */
    static final class Stop {
        final int rounds;
        final StopRule.Verdict verdict;

        Stop(int rounds, StopRule.Verdict verdict) {
            this.rounds = rounds;
            this.verdict = verdict;
        }
    }

    /**
     * Every side timed in rounds of one block each, in serpentine order, until the stop rule says so (fixed
     * rounds, or adaptive). A block is at least ceil(runs / rounds) runs and minS / rounds seconds, so a fixed
     * cell still gets its runs and seconds (cell.py's time_blocks).
     */
    private Stop timeBlocks(List<Side> sides, Plan.Measurement m) {
        StopRule rule = StopRule.of(m, sides.size());
        int perBlock = (m.runs + rule.rounds - 1) / rule.rounds;
        double blockS = m.minS / rule.rounds;
        List<List<Double>> medians = new ArrayList<>();
        for (Side side : sides) {
            medians.add(side.blockMedians);
        }
        int round = 0;
        long started = clock.nanoTime();
        while (true) {
            for (int index : serpentine(sides.size(), round)) {
                Side side = sides.get(index);
                int before = side.samples.size();
                long start = clock.nanoTime();
                side.blockLengths.add(RunLoop.bounded(side.engine::invoke, perBlock, blockS, m.maxS, clock,
                        side.samples));
                side.timedNs += clock.nanoTime() - start;
                side.readPeak(probes); // the block's median copies the block
                side.blockMedians.add(Intervals.median(toDoubles(side.samples.since(before))));
            }
            probes.resetPeak(); // so that copy, the runner's, is not the next block's peak
            round++;
            long timedNs = 0;
            for (Side side : sides) {
                timedNs += side.timedNs;
            }
            StopRule.Verdict verdict = rule.decide(round, timedNs / (double) sides.size() / 1e9, medians);
            if (verdict.stop != null) {
                return new Stop(round, verdict);
            }
            // An adaptive unit's maxS is the clock's too: where blocks take microseconds, the timed seconds would
            // reach it only after many thousands of rounds, each deciding on every block so far (cell.py's too).
            if (m.precision > 0 && (clock.nanoTime() - started) / (double) sides.size() / 1e9 >= m.maxS) {
                return new Stop(round, new StopRule.Verdict(StopRule.Reason.BOUND, verdict.halfWidths));
            }
        }
    }

    private static double[] toDoubles(long[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    /**
     * One cell, or the cells of one unit (a gate's pair, the variants of one configuration) loaded side by side and
     * timed in alternating blocks, so block k of each ran beside block k of the others: one time base (cell.py's
     * run_group). A cell that cannot run gets its status and the others go on. Loaded beside others, a side would
     * find the runtime's start-up paid, or their heap in its peak: its memory is the one measured in a process of
     * its own (measureMemory), else it says which figures it lacks. Null: the timing threw, in a group that is not
     * a pair (each cell is then timed alone).
     */
    List<CellResult> unit(Loaded loaded, List<CellKey> keys, File resultsDir) {
        CellResult[] out = new CellResult[keys.size()];
        List<Side> sides = new ArrayList<>();
        List<Integer> at = new ArrayList<>(); // each side's index in keys
        try {
            for (int k = 0; k < keys.size(); k++) {
                try {
                    sides.add(load(loaded, keys.get(k)));
                    at.add(k);
                } catch (CannotRun e) {
                    out[k] = e.result;
                }
            }
            if (!sides.isEmpty()) {
                timeSides(loaded, keys.size(), sides, resultsDir);
                for (int s = 0; s < sides.size(); s++) {
                    out[at.get(s)] = result(sides.get(s), loaded, resultsDir);
                }
            }
        } catch (Engine.InputsDoNotFit e) {
            throw e; // the input set, not a cell, is at fault: the sweep stops saying so
        } catch (RuntimeException e) {
            if (keys.size() > 1 && !loaded.paired()) {
                return null;
            }
            for (int s = 0; s < sides.size(); s++) { // as a pair process that dies: neither side has a measurement
                out[at.get(s)] = finish(sides.get(s).result, Schema.CRASHED, e.toString());
            }
        } finally {
            for (Side side : sides) {
                side.close();
            }
        }
        return Arrays.asList(out);
    }

    /** The sides' blocks, conditions, schedule and memory (everything but the scored outputs). */
    private void timeSides(Loaded loaded, int unitSize, List<Side> sides, File resultsDir) {
        double overheadNs = RunLoop.timerOverheadNs(clock, OVERHEAD_READS);
        Noise.Guard guard = noise.start(sides.get(0).result.threads);
        Stop stop = timeBlocks(sides, loaded.plan.measure);
        CellResult.Conditions conditions = guard.finish();
        String group = sides.size() > 1 ? token() : "";
        for (int s = 0; s < sides.size(); s++) {
            Side side = sides.get(s);
            side.overheadNs = overheadNs;
            side.conditions = conditions;
            CellResult.Schedule schedule = new CellResult.Schedule();
            schedule.group = group;
            schedule.groupSize = sides.size();
            schedule.rounds = stop.rounds;
            schedule.stop = stop.verdict.stop;
            schedule.precision = loaded.plan.measure.precision;
            schedule.halfWidth = stop.verdict.halfWidths.get(s);
            schedule.timedS = side.timedNs / 1e9;
            side.schedule = schedule;
            side.readPeak(probes); // before the summary, the accuracy pass, the references
            if (unitSize > 1) {
                CellResult.Memory alone = isolatedMemory(resultsDir, side.key());
                side.memory = alone != null ? alone : side.sharedMemory();
            } else {
                side.memory = side.sharedProcess ? side.sharedMemory() : side.ownMemory();
            }
        }
    }

    /** A group's token, shared by the cells timed together (cell.py's secrets.token_hex(6)). */
    private static String token() {
        byte[] bytes = new byte[6];
        TOKENS.nextBytes(bytes);
        StringBuilder hex = new StringBuilder();
        for (byte b : bytes) {
            hex.append(String.format("%02x", b & 0xff));
        }
        return hex.toString();
    }

    private static CellResult.Memory isolatedMemory(File resultsDir, CellKey key) {
        File file = memoryFile(resultsDir, key);
        try {
            return file.isFile() ? readResult(file).memory : null;
        } catch (IOException | Schema.SchemaException e) {
            return null; // a torn or foreign file: the side says what it lacks instead
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
        final List<Double> blockMedians = new ArrayList<>(); // ns, one a block: what the stop rule reads
        long timedNs;
        double overheadNs;
        Double peakMb; // the process's peak less the sample buffer, the highest read
        CellResult.Schedule schedule;
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

        CellKey key() {
            return new CellKey(result.variant, result.delegate, result.threads, result.api);
        }

        /**
         * VmHWM less the sample buffer (resident since before the timed loop), kept if higher than the last
         * reading: the same model reports the same peak however long it is timed.
         */
        void readPeak(Probes probes) {
            double peak = probes.peakRssMb() - samples.bytes() / (double) (1 << 20);
            peakMb = peakMb == null ? peak : Math.max(peakMb, peak);
        }

        CellResult.Memory ownMemory() {
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
        return predict(engine, inputs, inputs.size());
    }

    /** As predict, on the first ``n`` samples. */
    static List<Samples> predict(Engine engine, InputSet inputs, int n) {
        List<float[][]> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            engine.setInputs(inputs.sample(i));
            engine.invoke();
            float[][] sample = engine.outputs();
            for (int j = 0; j < sample.length; j++) {
                if (i == 0) {
                    rows.add(new float[n][]);
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
    private CellResult result(Side side, Loaded loaded, File resultsDir) {
        CellResult result = side.result;
        Plan plan = loaded.plan;
        InputSet inputs = loaded.inputs;
        result.timing = RunLoop.summarize(side.samples.toArray(), side.initNs, side.firstNs, side.warmupRuns,
                side.overheadNs);
        if (side.blockLengths.size() > 1) { // one block is the whole run: nothing to split (as cell.py writes it)
            result.timing.blockLengths = new ArrayList<>(side.blockLengths);
        }
        result.memory = side.memory;
        result.schedule = side.schedule;
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
            if (plan.measure.findCulprits) { // after the cell's own figures, so the probe costs them nothing
                result.culprit = probePass(loaded, key, resultsDir, result.coverage);
                message += "; " + result.culprit.line();
            }
            return finish(result, Schema.WRONG_OUTPUT, message);
        }
        boolean blind = result.conditions != null && result.conditions.during.busyCores == null;
        String note = side.engine.note();
        return finish(result, Schema.OK, blind ? (note.isEmpty() ? NO_BUSY_CORES : note + "; " + NO_BUSY_CORES) : note);
    }

    /** Where a cell's probe pass writes its outputs: a dot-file, never read as a result; the host pulls it. */
    static File probeOutputs(File resultsDir, CellKey key) {
        return new File(resultsDir, "." + key.id() + ".probe.npz");
    }

    /**
     * A wrong_output cell's probe pass, the delegated half of device_runner/culprit.py's search: the variant's probe
     * (named in the plan) opened under the cell's delegate and API, run on the first PROBE_SAMPLES inputs, and its
     * outputs written to ``probeOutputs``: per probe output j, ``out.j``, float32 of shape [samples, *its shape],
     * dequantised as the engines hand outputs back. The host runs the same probe on its reference kernels and
     * names the op. A probe that is missing or does not run names no op and says why.
     */
    private CellResult.Culprit probePass(Loaded loaded, CellKey key, File resultsDir, CellResult.Coverage cell) {
        String name = loaded.plan.variant(key.variant).probe;
        File probe = new File(loaded.planDir, name == null ? "" : name);
        if (name == null || name.isEmpty() || !probe.isFile()) {
            return CellResult.Culprit.unavailable("no probe model for " + key.variant + " beside the plan (the host "
                    + "makes one per variant when --find-culprits is given)");
        }
        int n = Math.min(PROBE_SAMPLES, loaded.inputs.size());
        Engine engine;
        try {
            engine = engines.open(probe, key, loaded.inputs.shapes());
        } catch (Engine.DelegateUnavailable | Engine.DelegateFailed e) {
            return CellResult.Culprit.notRun(e.getMessage());
        }
        File out = probeOutputs(resultsDir, key);
        try (NpzWriter npz = new NpzWriter(out)) {
            List<Samples> outputs = predict(engine, loaded.inputs, n);
            for (int j = 0; j < outputs.size(); j++) {
                Samples output = outputs.get(j);
                int[] stacked = new int[output.shape.length + 1];
                stacked[0] = n;
                System.arraycopy(output.shape, 0, stacked, 1, output.shape.length);
                npz.float32("out." + j, stacked, flatten(output.rows));
            }
            CellResult.Coverage probed = engine.coverage();
            return CellResult.Culprit.probed(n, probed == null ? null : probed.delegatedNodes,
                    cell == null ? null : cell.delegatedNodes, out.getName());
        } catch (IOException e) {
            return CellResult.Culprit.unavailable("the probe's outputs could not be written: " + e.getMessage());
        } catch (RuntimeException e) {
            return CellResult.Culprit.notRun(e.toString());
        } finally {
            engine.close();
        }
    }

    private static float[] flatten(float[][] rows) {
        int width = rows.length == 0 ? 0 : rows[0].length;
        float[] flat = new float[rows.length * width];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * width, width);
        }
        return flat;
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
