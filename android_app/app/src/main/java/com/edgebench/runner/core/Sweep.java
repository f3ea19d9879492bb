package com.edgebench.runner.core;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Every cell of a plan, one result JSON each, written atomically; cells already written are skipped
 * (resume). device_runner/sweep.py and cell.py, for a process that cannot fork one child per cell:
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
        List<CellKey> cells = plan.cells();
        List<CellResult> results = new ArrayList<>();
        for (int i = 0; i < cells.size(); i++) {
            CellKey key = cells.get(i);
            File out = new File(resultsDir, key.id() + ".json");
            File marker = new File(resultsDir, "." + key.id() + ".running");
            boolean skipped = out.isFile();
            CellResult result;
            if (skipped) {
                String json = new String(Files.readAllBytes(out.toPath()), StandardCharsets.UTF_8);
                result = Schema.fromJson(json, CellResult.class, out.toString());
            } else if (marker.isFile()) {
                result = finish(header(plan, key), Schema.CRASHED, "the app's process died during this cell");
            } else {
                AtomicFiles.write(marker, key.id());
                result = timed(plan, planDir, key, inputs);
            }
            if (!skipped) {
                AtomicFiles.write(out, Schema.toJson(result));
                Files.deleteIfExists(marker.toPath());
            }
            results.add(result);
            listener.onCell(key.id(), result.status, i + 1, cells.size(), skipped);
            if (!skipped && Schema.TIMEOUT.equals(result.status)) {
                throw new Stopped(key.id() + " hung past " + plan.measure.cellTimeoutS + " s; resume to go on");
            }
            if (!skipped && plan.measure.cooldownS > 0) {
                sleep(plan.measure.cooldownS);
            }
        }
        return results;
    }

    /** The cell on a worker thread, so a hung delegate becomes a timeout result instead of a silent stall. */
    private CellResult timed(Plan plan, File planDir, CellKey key, InputSet inputs) {
        ExecutorService worker = Executors.newSingleThreadExecutor();
        try {
            Future<CellResult> future = worker.submit(() -> cell(plan, planDir, key, inputs));
            return future.get((long) (plan.measure.cellTimeoutS * 1000), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return finish(header(plan, key), Schema.TIMEOUT, "no result within " + plan.measure.cellTimeoutS + " s");
        } catch (ExecutionException e) {
            return finish(header(plan, key), Schema.CRASHED, String.valueOf(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return finish(header(plan, key), Schema.CRASHED, "interrupted");
        } finally {
            worker.shutdownNow();
        }
    }

    CellResult cell(Plan plan, File planDir, CellKey key, InputSet inputs) {
        CellResult result = header(plan, key);
        File model = new File(planDir, plan.variant(key.variant).file);
        Plan.Measurement m = plan.measure;
        double rssBefore = probes.rssMb();
        long start = clock.nanoTime();
        Engine engine;
        try {
            engine = engines.open(model, key);
        } catch (Engine.DelegateUnavailable e) {
            return finish(result, Schema.DELEGATE_UNAVAILABLE, e.getMessage());
        } catch (Engine.DelegateFailed e) {
            return finish(result, Schema.DELEGATE_FAILED, e.getMessage());
        }
        long initNs = clock.nanoTime() - start;
        double rssAfter = probes.rssMb();
        try (engine) {
            engine.setInput(inputs.x[0]);
            start = clock.nanoTime();
            engine.invoke();
            long firstNs = clock.nanoTime() - start;
            long[] warmup = RunLoop.bounded(engine::invoke, m.warmupRuns, m.warmupMinS, m.maxS, clock);
            double overheadNs = RunLoop.timerOverheadNs(clock, OVERHEAD_READS);
            long[] samples = RunLoop.bounded(engine::invoke, m.runs, m.minS, m.maxS, clock);
            result.timing = RunLoop.summarize(samples, initNs, firstNs, warmup.length, overheadNs);
            result.memory = new CellResult.Memory();
            result.memory.rssBeforeMb = rssBefore;
            result.memory.rssAfterLoadMb = rssAfter;
            result.memory.loadDeltaMb = rssAfter - rssBefore;
            result.memory.peakRssMb = probes.peakRssMb();
            float[][] outputs = new float[inputs.size()][];
            for (int i = 0; i < inputs.size(); i++) {
                engine.setInput(inputs.x[i]);
                engine.invoke();
                outputs[i] = engine.output();
            }
            result.accuracy = Scoring.score(outputs, inputs.y, inputs.ref);
            result.coverage = engine.coverage();
            result.fullyAccelerated = engine.fullyAccelerated();
            return finish(result, Schema.OK, "");
        } catch (RuntimeException e) {
            return finish(result, Schema.CRASHED, e.toString());
        }
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
