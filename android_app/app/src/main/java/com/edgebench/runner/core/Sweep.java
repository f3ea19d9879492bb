package com.edgebench.runner.core;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
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
 * blocks. device_runner/sweep.py and cell.py, for a process that cannot fork one child per cell:
 * a cell that hangs past cell_timeout_s is recorded as timeout and ends the sweep (the host resumes
 * it in a fresh process), and a cell during which the process died is found by its marker file on
 * the next start and recorded as crashed, so a crashing cell is never retried forever.
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

    private static final int OVERHEAD_READS = 20_000;

    private final Engine.Factory engines;
    private final Probes probes;
    private final Clock clock;

    public Sweep(Engine.Factory engines, Probes probes, Clock clock) {
        this.engines = engines;
        this.probes = probes;
        this.clock = clock;
    }

    public List<CellResult> run(File planFile, File resultsDir, Listener listener)
            throws IOException, Schema.SchemaException, Stopped {
        String text = new String(Files.readAllBytes(planFile.toPath()), StandardCharsets.UTF_8);
        Plan plan = Schema.fromJson(text, Plan.class, planFile.toString());
        File planDir = planFile.getAbsoluteFile().getParentFile();
        InputSet inputs = InputSet.read(new File(planDir, plan.inputSet));
        // A unit is measured in one go: one cell, or a baseline/candidate pair timed side by side.
        List<CellKey[]> units = plan.pairs.isEmpty() ? new ArrayList<>() : plan.pairedCells();
        if (plan.pairs.isEmpty()) {
            for (CellKey key : plan.cells()) {
                units.add(new CellKey[] {key});
            }
        }
        int total = 0;
        for (CellKey[] unit : units) {
            total += unit.length;
        }
        List<CellResult> results = new ArrayList<>();
        boolean measuredBefore = false;
        for (CellKey[] unit : units) {
            File[] outs = new File[unit.length];
            File[] markers = new File[unit.length];
            boolean skipped = true;
            boolean died = false;
            for (int k = 0; k < unit.length; k++) {
                outs[k] = new File(resultsDir, unit[k].id() + ".json");
                markers[k] = new File(resultsDir, "." + unit[k].id() + ".running");
                skipped &= outs[k].isFile();
                died |= markers[k].isFile();
            }
            List<CellResult> unitResults = new ArrayList<>();
            if (skipped) {
                for (File out : outs) {
                    String json = new String(Files.readAllBytes(out.toPath()), StandardCharsets.UTF_8);
                    unitResults.add(Schema.fromJson(json, CellResult.class, out.toString()));
                }
            } else {
                if (died) {
                    for (CellKey key : unit) {
                        unitResults.add(finish(header(plan, key), Schema.CRASHED,
                                "the app's process died during this cell"));
                    }
                } else {
                    if (measuredBefore && plan.measure.cooldownS > 0) {
                        sleep(plan.measure.cooldownS); // heat from the last unit must not slow this one
                    }
                    for (int k = 0; k < unit.length; k++) {
                        AtomicFiles.write(markers[k], unit[k].id());
                    }
                    unitResults = timed(plan, planDir, unit, inputs);
                    measuredBefore = true;
                }
                // A half-written pair is measured again whole: both sides must come from one session.
                for (int k = 0; k < unit.length; k++) {
                    AtomicFiles.write(outs[k], Schema.toJson(unitResults.get(k)));
                    Files.deleteIfExists(markers[k].toPath());
                }
            }
            for (int k = 0; k < unit.length; k++) {
                CellResult result = unitResults.get(k);
                results.add(result);
                listener.onCell(unit[k].id(), result.status, results.size(), total, skipped);
            }
            if (!skipped && Schema.TIMEOUT.equals(unitResults.get(0).status)) {
                throw new Stopped(unit[0].id() + " hung past " + plan.measure.cellTimeoutS + " s; resume to go on");
            }
        }
        return results;
    }

    /** The unit on a worker thread, so a hung delegate becomes a timeout result instead of a silent stall. */
    private List<CellResult> timed(Plan plan, File planDir, CellKey[] unit, InputSet inputs) {
        ExecutorService worker = Executors.newSingleThreadExecutor();
        try {
            Future<List<CellResult>> future = worker.submit(() -> unit.length == 2
                    ? pair(plan, planDir, unit[0], unit[1], inputs)
                    : Collections.singletonList(cell(plan, planDir, unit[0], inputs)));
            return future.get((long) (plan.measure.cellTimeoutS * 1000), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return failed(plan, unit, Schema.TIMEOUT, "no result within " + plan.measure.cellTimeoutS + " s");
        } catch (ExecutionException e) {
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

    CellResult cell(Plan plan, File planDir, CellKey key, InputSet inputs) {
        Side side;
        try {
            side = load(plan, planDir, key, inputs);
        } catch (CannotRun e) {
            return e.result;
        }
        try (Side s = side) {
            Plan.Measurement m = plan.measure;
            double overheadNs = RunLoop.timerOverheadNs(clock, OVERHEAD_READS);
            s.add(RunLoop.bounded(s.engine::invoke, m.runs, m.minS, m.maxS, clock));
            return result(s, inputs, overheadNs);
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
     * paired mode), as device_runner/cell.py's run_pair. A side that cannot run gets its status; the
     * other is then measured on its own, as an ordinary cell.
     */
    List<CellResult> pair(Plan plan, File planDir, CellKey baseline, CellKey candidate, InputSet inputs) {
        CellKey[] keys = {baseline, candidate};
        Side[] sides = new Side[2];
        CellResult[] failures = new CellResult[2];
        for (int k = 0; k < 2; k++) {
            try {
                sides[k] = load(plan, planDir, keys[k], inputs);
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
                out.add(failures[k] != null ? failures[k] : cell(plan, planDir, keys[k], inputs));
            }
            return out;
        }
        try (Side a = sides[0]; Side b = sides[1]) {
            Plan.Measurement m = plan.measure;
            int blocks = Math.max(1, m.blocks);
            int perBlock = Math.max(1, m.runs / blocks);
            double overheadNs = RunLoop.timerOverheadNs(clock, OVERHEAD_READS);
            for (int index : abba(blocks)) {
                Side side = index == 0 ? a : b;
                long[] block = RunLoop.bounded(side.engine::invoke, perBlock, m.minS / blocks, m.maxS, clock);
                side.add(block);
                side.blockLengths.add(block.length);
            }
            List<CellResult> out = new ArrayList<>();
            out.add(result(a, inputs, overheadNs));
            out.add(result(b, inputs, overheadNs));
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

    /** One model opened, given its first inference and warmed up, ready to be timed (cell.py's Side). */
    private static final class Side implements AutoCloseable {
        final CellResult result; // the header; filled in when the side is finished
        final Engine engine;
        final long initNs;
        final double rssBefore;
        final double rssAfter;
        long firstNs;
        int warmupRuns;
        final List<Long> samples = new ArrayList<>();
        final List<Integer> blockLengths = new ArrayList<>();

        Side(CellResult result, Engine engine, long initNs, double rssBefore, double rssAfter) {
            this.result = result;
            this.engine = engine;
            this.initNs = initNs;
            this.rssBefore = rssBefore;
            this.rssAfter = rssAfter;
        }

        void add(long[] block) {
            for (long sample : block) {
                samples.add(sample);
            }
        }

        long[] samples() {
            long[] out = new long[samples.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = samples.get(i);
            }
            return out;
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

    /** Open (timed), first inference and warm-up. */
    private Side load(Plan plan, File planDir, CellKey key, InputSet inputs) throws CannotRun {
        CellResult header = header(plan, key);
        File model = new File(planDir, plan.variant(key.variant).file);
        Plan.Measurement m = plan.measure;
        double rssBefore = probes.rssMb();
        long start = clock.nanoTime();
        Engine engine;
        try {
            engine = engines.open(model, key);
        } catch (Engine.DelegateUnavailable e) {
            throw new CannotRun(finish(header, Schema.DELEGATE_UNAVAILABLE, e.getMessage()));
        } catch (Engine.DelegateFailed e) {
            throw new CannotRun(finish(header, Schema.DELEGATE_FAILED, e.getMessage()));
        }
        long initNs = clock.nanoTime() - start;
        Side side = new Side(header, engine, initNs, rssBefore, probes.rssMb());
        try {
            engine.setInput(inputs.x[0]);
            start = clock.nanoTime();
            engine.invoke();
            side.firstNs = clock.nanoTime() - start;
            side.warmupRuns = RunLoop.bounded(engine::invoke, m.warmupRuns, m.warmupMinS, m.maxS, clock).length;
            return side;
        } catch (RuntimeException e) {
            engine.close();
            throw new CannotRun(finish(header, Schema.CRASHED, e.toString()));
        }
    }

    /** A timed side's result: timing, memory, accuracy over the whole input set, delegation. */
    private CellResult result(Side side, InputSet inputs, double overheadNs) {
        CellResult result = side.result;
        result.timing = RunLoop.summarize(side.samples(), side.initNs, side.firstNs, side.warmupRuns, overheadNs);
        result.timing.blockLengths = new ArrayList<>(side.blockLengths);
        result.memory = new CellResult.Memory(); // peak is the process's: in a pair it covers both models
        result.memory.rssBeforeMb = side.rssBefore;
        result.memory.rssAfterLoadMb = side.rssAfter;
        result.memory.loadDeltaMb = side.rssAfter - side.rssBefore;
        result.memory.peakRssMb = probes.peakRssMb();
        float[][] outputs = new float[inputs.size()][];
        for (int i = 0; i < inputs.size(); i++) {
            side.engine.setInput(inputs.x[i]);
            side.engine.invoke();
            outputs[i] = side.engine.output();
        }
        result.accuracy = Scoring.score(outputs, inputs.y, inputs.ref);
        result.coverage = side.engine.coverage();
        result.fullyAccelerated = side.engine.fullyAccelerated();
        return finish(result, Schema.OK, "");
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
