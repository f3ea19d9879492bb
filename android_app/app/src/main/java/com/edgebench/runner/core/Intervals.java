package com.edgebench.runner.core;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The 95 % intervals of timed blocks (device_runner/intervals.py in Java): blocks, not single runs, are the
 * units, since neighbouring runs share clock frequency, caches and load. Everything but the paired bootstrap is
 * exact and equals Python's; the bootstrap is seeded (reproducible) with Java's own generator, so its interval
 * differs from numpy's by the resampling's noise, never by method.
 */
public final class Intervals {
    static final double TAIL = 0.025; // each side of a 95 % interval
    static final int PAIRED_DRAWS = 1000; // bootstrap resamples of a paired interval
    /**
     * Blocks (a side) before an adaptive stop: fewer give a bootstrap far too narrow, and the gate's one-sided
     * Wilcoxon test on fewer than 8 blocks cannot reach its alpha of 0.005 at all (intervals.py's MIN_BLOCKS).
     */
    public static final int MIN_BLOCKS = 10;

    private Intervals() {}

    /** numpy.median: the middle value, or the mean of the two middle ones. */
    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** The Walsh averages (d_i + d_j) / 2, i <= j, of ``d`` picked by ``index`` (a resample of d). */
    private static double[] walshAverages(double[] d, int[] index) {
        int n = index.length;
        double[] out = new double[n * (n + 1) / 2];
        int at = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                out[at++] = (d[index[i]] + d[index[j]]) / 2;
            }
        }
        return out;
    }

    private static int[] identity(int n) {
        int[] index = new int[n];
        for (int i = 0; i < n; i++) {
            index[i] = i;
        }
        return index;
    }

    /** Median of the Walsh averages: a robust centre for paired differences. */
    public static double hodgesLehmann(double[] d) {
        return median(walshAverages(d, identity(d.length)));
    }

    /**
     * 95 % percentile-bootstrap interval of exp(Hodges-Lehmann(d)) over blocks, d_k = ln median(B_k) - ln
     * median(A_k): the paired gate's interval of the candidate's time over the baseline's; {low, high}.
     */
    public static double[] pairedRatioInterval(double[] d, long seed) {
        Random random = new Random(seed);
        double[] centres = new double[PAIRED_DRAWS];
        int[] index = new int[d.length];
        for (int draw = 0; draw < PAIRED_DRAWS; draw++) {
            for (int k = 0; k < index.length; k++) {
                index[k] = random.nextInt(d.length);
            }
            centres[draw] = Math.exp(median(walshAverages(d, index)));
        }
        return new double[] {RunLoop.percentile(centres, 100 * TAIL), RunLoop.percentile(centres, 100 * (1 - TAIL))};
    }

    /** d_k = ln B_k - ln A_k of two sides' block medians, block by block. */
    public static double[] logRatios(List<Double> a, List<Double> b) {
        double[] d = new double[a.size()];
        for (int k = 0; k < d.length; k++) {
            d[k] = Math.log(b.get(k)) - Math.log(a.get(k));
        }
        return d;
    }

    /** Ranks 1..n of ``values``, ties sharing their mean rank (as SciPy's rankdata). */
    static double[] midRanks(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double[] ranks = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            int first = lowerBound(sorted, values[i]);
            int last = lowerBound(sorted, Math.nextUp(values[i])); // one past the last equal value
            ranks[i] = (first + 1 + last) / 2.0; // the mean of ranks first+1 .. last
        }
        return ranks;
    }

    private static int lowerBound(double[] sorted, double value) {
        int low = 0;
        int high = sorted.length;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (sorted[mid] < value) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    /**
     * Exact one-sided p of the Wilcoxon signed-rank test that d lies above 0 (zeros dropped, ties at mid-ranks):
     * the gate's test, for the runner to know whether a verdict is already reached.
     */
    public static double wilcoxonGreater(double[] d) {
        List<Double> nonZero = new ArrayList<>();
        for (double v : d) {
            if (v != 0) {
                nonZero.add(v);
            }
        }
        if (nonZero.isEmpty()) {
            return 1.0;
        }
        double[] abs = new double[nonZero.size()];
        for (int i = 0; i < abs.length; i++) {
            abs[i] = Math.abs(nonZero.get(i));
        }
        double[] ranks = midRanks(abs);
        int[] doubled = new int[ranks.length]; // mid-ranks are halves: doubled, integers
        int total = 0;
        int statistic = 0;
        for (int i = 0; i < ranks.length; i++) {
            doubled[i] = (int) Math.rint(2 * ranks[i]);
            total += doubled[i];
            statistic += nonZero.get(i) > 0 ? doubled[i] : 0;
        }
        double[] counts = new double[total + 1]; // the null distribution: each rank in or out, equally likely
        counts[0] = 1.0;
        int reached = 0;
        for (int rank : doubled) {
            for (int s = reached; s >= 0; s--) {
                counts[s + rank] += counts[s];
            }
            reached += rank;
        }
        double above = 0;
        for (int s = statistic; s <= total; s++) {
            above += counts[s];
        }
        return above / Math.pow(2.0, abs.length);
    }

    /**
     * The largest j with P(Binomial(blocks, 1/2) < j) <= 2.5 %: the median lies between the j-th smallest and
     * the j-th largest of ``blocks`` independent values with at least 95 % probability (0: too few for that).
     * In integers (2^blocks outgrows a double past 1023 blocks): below / 2^blocks > 1/40.
     */
    static int medianOrderRanks(int blocks) {
        BigInteger all = BigInteger.ONE.shiftLeft(blocks);
        BigInteger comb = BigInteger.ONE; // C(blocks, j)
        BigInteger below = BigInteger.ZERO;
        for (int j = 0; ; j++) {
            below = below.add(comb);
            if (below.multiply(BigInteger.valueOf(40)).compareTo(all) > 0) {
                return j;
            }
            comb = comb.multiply(BigInteger.valueOf(blocks - j)).divide(BigInteger.valueOf(j + 1));
        }
    }

    /**
     * A distribution-free 95 % interval of the median from block medians (order statistics: no seed, no
     * assumption on the shape of the latencies); null with fewer than 6 blocks, which cannot give one.
     */
    static double[] medianInterval(List<Double> blockMedians) {
        int j = medianOrderRanks(blockMedians.size());
        if (j == 0) {
            return null;
        }
        double[] sorted = unboxed(blockMedians);
        Arrays.sort(sorted);
        return new double[] {sorted[j - 1], sorted[sorted.length - j]};
    }

    /** The interval's larger distance from its centre, as a fraction of the centre (±P). */
    static double halfWidth(double low, double high, double centre) {
        return Math.max(high / centre - 1, 1 - low / centre);
    }

    /** The half-width of a side's p50 interval; null below 6 blocks. */
    public static Double cellHalfWidth(List<Double> blockMedians) {
        double[] found = medianInterval(blockMedians);
        return found == null ? null : halfWidth(found[0], found[1], median(unboxed(blockMedians)));
    }

    static double[] unboxed(List<Double> values) {
        double[] out = new double[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }
}
