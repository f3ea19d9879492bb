package com.edgebench.runner.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.util.List;
import org.junit.Test;

public class RunLoopTest {
    /** A clock that advances by a fixed step each read: every invoke costs exactly two steps. */
    static final class SteppingClock implements Clock {
        long now = 0;
        final long step;

        SteppingClock(long step) {
            this.step = step;
        }

        @Override
        public long nanoTime() {
            now += step;
            return now;
        }
    }

    private static long[] timed(int minRuns, double minS, double maxS, long step) {
        SampleBuffer into = new SampleBuffer(2);
        int runs = RunLoop.bounded(() -> {}, minRuns, minS, maxS, new SteppingClock(step), into);
        assertEquals(runs, into.size());
        return into.toArray();
    }

    @Test
    public void theLoopStopsWhenBothCountAndTimeAreReached() {
        assertEquals(5, timed(5, 0.0, 10.0, 1_000_000).length); // count reached first; no minimum time
        assertEquals(5, timed(1, 0.01, 10.0, 1_000_000).length); // 10 ms at 2 ms a run (begin read + 2 per run)
    }

    @Test
    public void theLoopStopsAtTheTimeCapWhateverTheCount() {
        // five samples in a buffer made for two: it grows by chunks, losing none
        assertArrayEquals(new long[] {100_000, 100_000, 100_000, 100_000, 100_000},
                timed(1_000_000, 0.0, 0.001, 100_000));
    }

    @Test
    public void theWarmUpCountsRunsAndTheirMeanCostAndSizesTheBufferFromIt() {
        double[] warmup = RunLoop.counted(() -> {}, 3, 0.0, 10.0, new SteppingClock(1_000_000));
        assertEquals(3, warmup[0], 0);
        assertEquals(1_000_000, warmup[1], 0); // one clock read a run after the first
        // 1 s at 1 ms a run: 1000 expected, room for twice that, and never past what max_s allows
        assertEquals(2064, SampleBuffer.capacityFor(1e6, 50, 1.0, 150.0));
        assertEquals(1064, SampleBuffer.capacityFor(1e6, 50, 1.0, 1.0));
        assertEquals(8 * 2064, new SampleBuffer(2064).bytes());
    }

    @Test
    public void percentilesAndSpreadMatchNumpy() {
        double[] values = {5, 1, 3, 2, 4, 10, 7};
        // numpy.percentile(values, [50, 90, 99]) and values.std(ddof=1), printed by numpy
        assertEquals(4.0, RunLoop.percentile(values, 50), 1e-12);
        assertEquals(8.2, RunLoop.percentile(values, 90), 1e-12);
        assertEquals(9.82, RunLoop.percentile(values, 99), 1e-12);
        long[] ns = new long[values.length];
        for (int i = 0; i < ns.length; i++) {
            ns[i] = (long) (values[i] * 1e6);
        }
        CellResult.Timing t = RunLoop.summarize(ns, 2_000_000, 3_000_000, 4, 50.0);
        assertEquals(3.101458950082625, t.stdMs, 1e-12);
        assertEquals(4.571428571428571, t.meanMs, 1e-12);
        assertEquals(List.of(5.0, 1.0, 3.0, 2.0, 4.0, 10.0, 7.0), t.samplesMs);
        assertEquals(2.0, t.initMs, 0);
        assertEquals(3.0, t.firstMs, 0);
        assertEquals(5e-5, t.timerOverheadMs, 1e-15);
        assertEquals(1.0, t.minMs, 0);
        assertEquals(10.0, t.maxMs, 0);
        assertEquals(List.of(), t.missing);
        assertEquals(1.3, t.p5Ms, 1e-12); // numpy.percentile(values, [5, 95]) in ms
        assertEquals(9.1, t.p95Ms, 1e-12);
    }
}
