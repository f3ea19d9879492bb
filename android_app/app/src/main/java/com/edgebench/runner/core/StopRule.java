package com.edgebench.runner.core;

import com.google.gson.annotations.SerializedName;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * When interleaved blocks stop (device_runner/intervals.py's StopRule). Fixed (precision 0): after ``rounds``
 * rounds. Adaptive: after at least MIN_BLOCKS rounds and ``minS``, once every side's 95 % interval of its p50 is
 * within ±precision, or (a pair with a ``floor``) the ratio's interval is within ±precision or the gate's verdict
 * is reached; at ``maxS`` whatever the intervals say. Seconds are timed seconds per side.
 */
public final class StopRule {
    /** Why a cell's timed runs stopped (edgebench_records/protocol.py StopReason). */
    public enum Reason {
        @SerializedName("fixed") FIXED, // the runs and seconds asked, no precision asked
        @SerializedName("precision") PRECISION, // the 95 % interval reached the precision asked
        @SerializedName("decided") DECIDED, // a pair: the ratio's interval cleared the gate's threshold
        @SerializedName("bound") BOUND // --max-secs passed first
    }

    /** Where the rule stands after a round: why to stop (null: go on) and each side's interval half-width. */
    public static final class Verdict {
        public final Reason stop;
        public final List<Double> halfWidths;

        Verdict(Reason stop, List<Double> halfWidths) {
            this.stop = stop;
            this.halfWidths = halfWidths;
        }
    }

    /** The paired bootstrap's seed: a stop is reproducible from the block medians alone (intervals.py's 0). */
    static final long SEED = 0;

    final double precision;
    final double minS;
    final double maxS;
    final int rounds;
    final Double floor; // a pair's decision threshold: the gate's latency floor; null: none
    final double alpha; // and the significance its regression needs

    StopRule(double precision, double minS, double maxS, int rounds, Double floor, double alpha) {
        this.precision = precision;
        this.minS = minS;
        this.maxS = maxS;
        this.rounds = rounds;
        this.floor = floor;
        this.alpha = alpha;
    }

    /** The rule for ``sides`` timed together under ``m``: one side timed as asked needs no blocks. */
    public static StopRule of(Plan.Measurement m, int sides) {
        int rounds = sides > 1 || m.precision > 0 ? m.blocks : 1;
        return new StopRule(m.precision, m.minS, m.maxS, rounds, sides == 2 ? m.stopFloor : null, m.stopAlpha);
    }

    /** After ``round`` rounds and ``elapsedS`` timed seconds a side, given each side's block medians. */
    public Verdict decide(int round, double elapsedS, List<List<Double>> medians) {
        double[] ratio = ratioInterval(medians);
        List<Double> widths = new ArrayList<>();
        if (ratio == null) {
            for (List<Double> side : medians) {
                widths.add(Intervals.cellHalfWidth(side));
            }
        } else { // a pair's precision is its ratio's
            widths.addAll(Collections.nCopies(medians.size(), Intervals.halfWidth(ratio[0], ratio[1], ratio[2])));
        }
        if (precision == 0) {
            return new Verdict(round >= rounds ? Reason.FIXED : null, widths);
        }
        if (round >= Intervals.MIN_BLOCKS && elapsedS >= minS) {
            if (ratio != null && decided(ratio[0], ratio[1], medians)) {
                return new Verdict(Reason.DECIDED, widths);
            }
            if (within(widths)) {
                return new Verdict(Reason.PRECISION, widths);
            }
        }
        return new Verdict(elapsedS >= maxS ? Reason.BOUND : null, widths);
    }

    private boolean within(List<Double> widths) {
        for (Double width : widths) {
            if (width == null || width > precision) {
                return false;
            }
        }
        return true;
    }

    /**
     * The gate's verdict is reached: the ratio's interval lies wholly short of the floor (no regression), or
     * wholly past it with the slowdown significant at alpha (past the floor but not significant is
     * inconclusive, so the pair measures on).
     */
    private boolean decided(double low, double high, List<List<Double>> medians) {
        if (floor == null) {
            return false;
        }
        if (high < 1 + floor) {
            return true;
        }
        return low > 1 + floor
                && Intervals.wilcoxonGreater(Intervals.logRatios(medians.get(0), medians.get(1))) < alpha;
    }

    /** A pair with a floor: its ratio's interval {low, high, Hodges-Lehmann centre}; else null. */
    private double[] ratioInterval(List<List<Double>> medians) {
        if (floor == null || medians.size() != 2 || medians.get(0).size() < 2) {
            return null;
        }
        double[] d = Intervals.logRatios(medians.get(0), medians.get(1));
        double[] interval = Intervals.pairedRatioInterval(d, SEED);
        return new double[] {interval[0], interval[1], Math.exp(Intervals.hodgesLehmann(d))};
    }
}
