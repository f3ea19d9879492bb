package com.edgebench.runner.core;

import java.util.Arrays;

/** Timing loops bounded by count and seconds, and their statistics: device_runner/timing.py in Java. */
public final class RunLoop {
    private static final double NS_PER_MS = 1e6;

    private RunLoop() {}

    /**
     * Runs until both ``minRuns`` and ``minS`` are reached, or ``maxS`` passes (benchmark_model's rule),
     * appending each run's nanoseconds to ``into``; returns how many runs it timed.
     */
    public static int bounded(Runnable invoke, int minRuns, double minS, double maxS, Clock clock, SampleBuffer into) {
        int runs = 0;
        long begin = clock.nanoTime();
        double minNs = minS * 1e9;
        double maxNs = maxS * 1e9;
        while (true) {
            long start = clock.nanoTime();
            invoke.run();
            long end = clock.nanoTime();
            into.add(end - start);
            runs++;
            long elapsed = end - begin;
            if (elapsed >= maxNs || (runs >= minRuns && elapsed >= minNs)) {
                return runs;
            }
        }
    }

    /** The warm-up: the same stopping rule, keeping no samples; returns {runs, mean ns a run} (timing.count_loop). */
    public static double[] counted(Runnable invoke, int minRuns, double minS, double maxS, Clock clock) {
        int runs = 0;
        long begin = clock.nanoTime();
        while (true) {
            invoke.run();
            runs++;
            long elapsed = clock.nanoTime() - begin;
            if (elapsed >= maxS * 1e9 || (runs >= minRuns && elapsed >= minS * 1e9)) {
                return new double[] {runs, (double) elapsed / runs};
            }
        }
    }

    /** Median cost of two back-to-back clock reads: the floor under every sample. */
    public static double timerOverheadNs(Clock clock, int reads) {
        double[] gaps = new double[reads];
        for (int i = 0; i < reads; i++) {
            long start = clock.nanoTime();
            gaps[i] = clock.nanoTime() - start;
        }
        return percentile(gaps, 50);
    }

    public static CellResult.Timing summarize(
            long[] samplesNs, long initNs, long firstNs, int warmupRuns, double overheadNs) {
        double[] ms = new double[samplesNs.length];
        for (int i = 0; i < ms.length; i++) {
            ms[i] = samplesNs[i] / NS_PER_MS;
        }
        CellResult.Timing t = new CellResult.Timing();
        t.initMs = initNs / NS_PER_MS;
        t.firstMs = firstNs / NS_PER_MS;
        t.warmupRuns = warmupRuns;
        for (double v : ms) {
            t.samplesMs.add(Math.round(v * 1e6) / 1e6);
        }
        t.p50Ms = percentile(ms, 50);
        t.p90Ms = percentile(ms, 90);
        t.p99Ms = percentile(ms, 99);
        t.p5Ms = percentile(ms, 5);
        t.p95Ms = percentile(ms, 95);
        t.meanMs = Arrays.stream(ms).average().orElse(Double.NaN);
        t.stdMs = ms.length > 1 ? Math.sqrt(sumSquares(ms, t.meanMs) / (ms.length - 1)) : 0.0;
        t.minMs = Arrays.stream(ms).min().orElse(Double.NaN);
        t.maxMs = Arrays.stream(ms).max().orElse(Double.NaN);
        t.timerOverheadMs = overheadNs / NS_PER_MS;
        return t;
    }

    /** numpy.percentile's default (linear interpolation between closest ranks). */
    public static double percentile(double[] values, double q) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double rank = q / 100.0 * (sorted.length - 1);
        int low = (int) Math.floor(rank);
        int high = Math.min(low + 1, sorted.length - 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }

    private static double sumSquares(double[] values, double mean) {
        double sum = 0;
        for (double v : values) {
            sum += (v - mean) * (v - mean);
        }
        return sum;
    }
}
