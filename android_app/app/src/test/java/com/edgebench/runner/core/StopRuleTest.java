package com.edgebench.runner.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.Test;

/** The intervals blocks give and the rule that stops timing (device_runner/intervals.py, fed medians, no clock). */
public class StopRuleTest {
    private final Random random = new Random(11);

    /** ``n`` block medians around ``scale``, log-normal with spread ``sigma``. */
    private List<Double> medians(double scale, double sigma, int n) {
        List<Double> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            out.add(scale * Math.exp(sigma * random.nextGaussian()));
        }
        return out;
    }

    private static List<Double> scaled(List<Double> values, double factor) {
        List<Double> out = new ArrayList<>();
        for (double v : values) {
            out.add(factor * v);
        }
        return out;
    }

    private static List<Double> repeated(double value, int n) {
        return new ArrayList<>(Collections.nCopies(n, value));
    }

    private static List<Double> concat(List<Double> a, List<Double> b) {
        List<Double> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private static StopRule rule(double precision, double minS, double maxS, Double floor) {
        return new StopRule(precision, minS, maxS, 20, floor, 0.005);
    }

    @Test
    public void theMedianIntervalTakesOrderStatisticsAndNeedsSixBlocks() {
        int[] ranks = new int[6];
        int[] blocks = {5, 6, 10, 20, 100, 2000};
        for (int k = 0; k < blocks.length; k++) {
            ranks[k] = Intervals.medianOrderRanks(blocks[k]);
        }
        // intervals.median_order_ranks(n) for the same n: 2^2000 outgrows a double, not the integers used here
        assertArrayEquals(new int[] {0, 1, 2, 6, 40, 956}, ranks);
        assertNull(Intervals.medianInterval(repeated(1.0, 5)));
        List<Double> down = new ArrayList<>();
        for (int v = 10; v > 0; v--) {
            down.add((double) v);
        }
        assertArrayEquals(new double[] {2.0, 9.0}, Intervals.medianInterval(down), 0);
        assertEquals(Math.max(9 / 5.5 - 1, 1 - 2 / 5.5), Intervals.cellHalfWidth(down), 1e-15);
    }

    /** Exact p-values from device_runner.intervals.wilcoxon_greater, run once on the same d and written here. */
    @Test
    public void theRunnersWilcoxonIsPythons() {
        double[] ramp = new double[12];
        for (int k = 0; k < ramp.length; k++) {
            ramp[k] = 0.05 * k - 0.2; // ties in |d| at 0.05, 0.1, 0.15, 0.2, and a zero dropped
        }
        List<Double> base = repeated(1.0, 10);
        double[] mixed73 = Intervals.logRatios(base, concat(repeated(1.3, 7), repeated(0.99, 3)));
        double[] mixed82 = Intervals.logRatios(base, concat(repeated(1.3, 8), repeated(0.99, 2)));
        double[] allAbove = {0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1};
        assertEquals(0.0078125, Intervals.wilcoxonGreater(mixed73), 1e-15);
        assertEquals(0.00390625, Intervals.wilcoxonGreater(mixed82), 1e-15);
        assertEquals(0.03125, Intervals.wilcoxonGreater(new double[] {0.1, 0.1, -0.1, 0.2, 0.3, 0.3, 0.0, 0.5}), 1e-15);
        assertEquals(0.09130859375, Intervals.wilcoxonGreater(ramp), 1e-15);
        assertEquals(0.0009765625, Intervals.wilcoxonGreater(allAbove), 1e-15); // 1 / 2^10: MIN_BLOCKS's floor
        assertEquals(1.0, Intervals.wilcoxonGreater(new double[] {0.0, 0.0}), 0);
    }

    @Test
    public void thePairedIntervalIsSeededAndHoldsItsCentre() {
        double[] d = Intervals.logRatios(medians(1, 0.02, 12), medians(1.2, 0.02, 12));
        double[] once = Intervals.pairedRatioInterval(d, StopRule.SEED);
        assertArrayEquals(once, Intervals.pairedRatioInterval(d, StopRule.SEED), 0); // the same medians, the same stop
        double centre = Math.exp(Intervals.hodgesLehmann(d));
        assertTrue(once[0] <= centre && centre <= once[1]);
        assertTrue(Arrays.toString(once), once[0] > 1.1 && once[1] < 1.3);
    }

    @Test
    public void fixedTimingStopsAfterItsBlocksAndOneCellAloneNeedsOne() {
        Plan.Measurement m = new Plan.Measurement();
        m.blocks = 8;
        StopRule rule = StopRule.of(m, 3);
        assertEquals(8, rule.rounds);
        assertEquals(1, StopRule.of(m, 1).rounds);
        List<List<Double>> noisy = Collections.nCopies(3, medians(1, 0.5, 7));
        assertNull(rule.decide(7, 100.0, noisy).stop); // not even max_s cuts a fixed run short of its blocks
        assertEquals(StopRule.Reason.FIXED, rule.decide(8, 0.0, Collections.nCopies(3, medians(1, 0.5, 8))).stop);
        m.precision = 0.02;
        assertEquals(8, StopRule.of(m, 1).rounds); // adaptive, one cell alone is timed in blocks too
    }

    @Test
    public void anAdaptiveCellStopsOnPrecisionOnlyPastItsMinimums() {
        StopRule rule = rule(0.02, 1.0, 10.0, null);
        List<Double> tight = medians(1, 0.002, Intervals.MIN_BLOCKS);
        assertNull(rule.decide(Intervals.MIN_BLOCKS - 1, 5.0, List.of(tight.subList(0, 9))).stop); // too few blocks
        assertNull(rule.decide(Intervals.MIN_BLOCKS, 0.5, List.of(tight)).stop); // before min_s
        StopRule.Verdict verdict = rule.decide(Intervals.MIN_BLOCKS, 1.0, List.of(tight));
        assertEquals(StopRule.Reason.PRECISION, verdict.stop);
        assertTrue(verdict.halfWidths.get(0) <= 0.02);
    }

    @Test
    public void anAdaptiveGroupWaitsForItsNoisiestCellAndMaxSEndsIt() {
        StopRule rule = rule(0.02, 0.0, 10.0, null);
        List<List<Double>> group = List.of(medians(1, 0.002, 12), medians(2, 0.3, 12));
        assertNull(rule.decide(12, 9.9, group).stop);
        StopRule.Verdict bound = rule.decide(12, 10.0, group);
        assertEquals(StopRule.Reason.BOUND, bound.stop);
        assertTrue(bound.halfWidths.get(0) <= 0.02 && 0.02 < bound.halfWidths.get(1));
    }

    @Test
    public void aPairedRunStopsOnceItsRatioClearsTheFloorEitherWay() {
        StopRule rule = rule(0.001, 0.0, 100.0, 0.05);
        List<Double> base = medians(1, 0.01, Intervals.MIN_BLOCKS);
        List<Double> slower = scaled(base, 1.2);
        List<Double> same = new ArrayList<>();
        List<Double> atFloor = new ArrayList<>();
        for (double v : base) {
            same.add(v * Math.exp(0.005 * random.nextGaussian()));
            atFloor.add(1.05 * v * Math.exp(0.05 * random.nextGaussian()));
        }
        int n = Intervals.MIN_BLOCKS;
        assertEquals(StopRule.Reason.DECIDED, rule.decide(n, 1.0, List.of(base, slower)).stop); // wholly past 1.05
        assertEquals(StopRule.Reason.DECIDED, rule.decide(n, 1.0, List.of(base, same)).stop); // wholly short of it
        assertNull(rule.decide(n, 1.0, List.of(base, atFloor)).stop); // straddles it: measure on
        assertNull(rule.decide(n - 1, 1.0, List.of(base.subList(0, 9), slower.subList(0, 9))).stop); // too few
        List<Double> widths = rule.decide(n, 1.0, List.of(base, slower)).halfWidths;
        assertEquals(widths.get(0), widths.get(1)); // a pair's precision is its ratio's
    }

    /** 7 slower blocks and 3 faster: far past the floor, but Wilcoxon's p 0.0078 > 0.005, as the gate would say. */
    @Test
    public void aPairPastTheFloorButNotYetSignificantMeasuresOn() {
        StopRule rule = rule(0.001, 0.0, 100.0, 0.05);
        List<Double> base = repeated(1.0, 10);
        List<Double> mixed = concat(repeated(1.3, 7), repeated(0.99, 3));
        assertTrue(Intervals.pairedRatioInterval(Intervals.logRatios(base, mixed), StopRule.SEED)[0] > 1.05);
        assertNull(rule.decide(10, 1.0, List.of(base, mixed)).stop);
        List<Double> clearer = concat(repeated(1.3, 8), repeated(0.99, 2)); // p 0.0039
        assertEquals(StopRule.Reason.DECIDED, rule.decide(10, 1.0, List.of(base, clearer)).stop);
    }

    @Test
    public void aPairWithoutAFloorStopsOnEachSidesOwnInterval() {
        Plan.Measurement m = new Plan.Measurement();
        m.precision = 0.02;
        m.stopFloor = 0.05;
        assertEquals(0.05, StopRule.of(m, 2).floor, 0);
        assertNull(StopRule.of(m, 3).floor); // a floor is a pair's: a group of three has no ratio
        List<Double> tight = medians(1, 0.002, 12);
        StopRule.Verdict verdict = StopRule.of(m, 3).decide(12, 2.0, List.of(tight, tight, tight));
        assertEquals(StopRule.Reason.PRECISION, verdict.stop);
        assertEquals(Intervals.cellHalfWidth(tight), verdict.halfWidths.get(2));
    }
}
