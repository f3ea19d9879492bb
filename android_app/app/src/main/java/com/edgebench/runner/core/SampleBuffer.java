package com.edgebench.runner.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Per-run nanoseconds in preallocated, touched chunks instead of a growing list (device_runner/timing.py's
 * Samples): the runner's own memory no longer grows with the number of runs (a List of Longs costs ~24
 * bytes a sample, 8 here), and ``bytes()`` says exactly how much of the process's peak is this buffer.
 */
public final class SampleBuffer {
    private final List<long[]> chunks = new ArrayList<>();
    private int used; // samples in the last chunk
    private int full; // samples in the chunks before it

    public SampleBuffer(int capacity) {
        chunks.add(touched(Math.max(1, capacity)));
    }

    /** Written once: the pages are resident from the start, so the timed loop adds nothing to the peak. */
    private static long[] touched(int capacity) {
        long[] chunk = new long[capacity];
        Arrays.fill(chunk, -1L);
        return chunk;
    }

    public int size() {
        return full + used;
    }

    public long bytes() {
        long total = 0;
        for (long[] chunk : chunks) {
            total += 8L * chunk.length;
        }
        return total;
    }

    /** Too small is only another chunk (as big as all before), never a lost sample. */
    void add(long sample) {
        long[] last = chunks.get(chunks.size() - 1);
        if (used == last.length) {
            full += used;
            used = 0;
            last = touched(full);
            chunks.add(last);
        }
        last[used++] = sample;
    }

    public long[] toArray() {
        return since(0);
    }

    /**
     * The samples from index ``start`` on, copying only the chunks they lie in: a block's median is read after
     * every block, and a copy of the whole run each time would make the runner's garbage grow with the run.
     */
    public long[] since(int start) {
        long[] out = new long[size() - start];
        int first = 0; // index of the chunk's first sample
        int at = 0;
        for (int k = 0; k < chunks.size(); k++) {
            int count = k == chunks.size() - 1 ? used : chunks.get(k).length;
            int from = Math.max(0, start - first);
            if (from < count) {
                System.arraycopy(chunks.get(k), from, out, at, count - from);
                at += count - from;
            }
            first += count;
        }
        return out;
    }

    /**
     * Samples a timed loop will take at ``perRunNs`` (the warm-up's speed), with room for a 2x speed-up
     * after warm-up; never more than ``maxS`` allows (timing.capacity_for).
     */
    public static int capacityFor(double perRunNs, int minRuns, double minS, double maxS) {
        double perRun = Math.max(perRunNs, 1.0);
        double expected = Math.max(minRuns, minS * 1e9 / perRun);
        return (int) Math.min(Integer.MAX_VALUE / 2, Math.min(2 * expected, maxS * 1e9 / perRun) + 64);
    }
}
