package com.edgebench.runner.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Scoring a cell's outputs head by head: device_runner/accuracy.py in Java, rule for rule and word for
 * word (tests/integration/test_android_schema.py feeds both the same arrays). Which outputs are class distributions,
 * so that top-1 and agreement mean something, follows the plan's task: classification: every output
 * of at least 2 values a sample; regression, other: none; auto: an output whose sample is one axis of
 * at least 2 values (size-1 axes aside) holding probabilities or scores the class-id labels index,
 * judged on the host fp32 outputs where the input set has them. Every output is compared by cosine,
 * SNR and |diff|.
 */
public final class Scoring {
    public static final double PROBABILITY_SUM_TOLERANCE = 0.02; // accuracy.PROBABILITY_SUM_TOLERANCE
    public static final double SNR_CAP_DB = 300.0; // schema.SNR_CAP_DB: JSON has no infinity
    public static final int SMALL_OUTPUT = 5; // schema.SMALL_OUTPUT: fewer values a sample, no cosine and no SNR

    private Scoring() {}

    /** The class count when one sample is a single axis of at least 2 values (size-1 axes aside). */
    static Integer axisClasses(int[] sampleShape) {
        List<Integer> axes = new ArrayList<>();
        for (int d : sampleShape) {
            if (d != 1) {
                axes.add(d);
            }
        }
        return axes.size() == 1 && axes.get(0) >= 2 ? axes.get(0) : null;
    }

    private static boolean probabilities(Samples values) {
        for (float[] row : values.rows) {
            double sum = 0;
            for (float v : row) {
                if (!Float.isFinite(v) || v < 0 || v > 1) {
                    return false;
                }
                sum += v;
            }
            if (Math.abs(sum - 1.0) > PROBABILITY_SUM_TOLERANCE) {
                return false;
            }
        }
        return true;
    }

    /** ``labels`` as one class id per sample, or null when they are not class ids (floats, vectors, negatives). */
    static long[] classIds(Samples labels, int n) {
        if (labels == null || labels.size() != n || n == 0) {
            return null;
        }
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            float v = labels.rows[i][0];
            if (v < 0 || (!labels.integer && v != Math.floor(v)) || Float.isNaN(v)) {
                return null;
            }
            ids[i] = (long) v;
        }
        return ids;
    }

    /**
     * Per output: its class count when it is a class distribution (accuracy.class_counts), else null. Under
     * ``auto``, scores the labels index count only when no output holds probabilities, and then only the one head
     * smallest in size above the largest label.
     */
    public static List<Integer> classCounts(List<Samples> outputs, Samples labels, String task) {
        List<Integer> counts = new ArrayList<>();
        if (task.equals("regression") || task.equals("other") || task.equals("classification")) {
            for (Samples values : outputs) {
                counts.add(task.equals("classification") && values.width() >= 2 ? values.width() : null);
            }
            return counts;
        }
        boolean any = false;
        for (Samples values : outputs) {
            Integer classes = axisClasses(values.shape);
            boolean distribution = classes != null && probabilities(values);
            counts.add(distribution ? classes : null);
            any |= distribution;
        }
        long[] ids = outputs.isEmpty() ? null : classIds(labels, outputs.get(0).n());
        if (ids != null && !any) {
            int chosen = -1;
            Integer fewest = null;
            for (int j = 0; j < outputs.size(); j++) {
                Integer classes = axisClasses(outputs.get(j).shape);
                if (classes != null && max(ids) < classes && (fewest == null || classes < fewest)) {
                    fewest = classes;
                    chosen = j;
                }
            }
            if (chosen >= 0) {
                counts.set(chosen, fewest);
            }
        }
        return counts;
    }

    /** One output against its reference, sample by sample (accuracy.fidelity), every sample counted for top-1. */
    public static CellResult.OutputFidelity fidelity(int index, String name, Samples got, Samples want,
            Integer classes) {
        return fidelity(index, name, got, want, classes, Precision.FLOAT, 0.0);
    }

    /**
     * One output against its reference (accuracy.fidelity): top-1 agreement over the samples whose reference
     * margin (its top value less the next) exceeds ``tieMargin``; disagreements on the others are near-ties.
     */
    public static CellResult.OutputFidelity fidelity(int index, String name, Samples got, Samples want,
            Integer classes, Precision.Output output, double tieMargin) {
        int n = got.n();
        int width = n == 0 ? 0 : got.rows[0].length;
        boolean small = width < SMALL_OUTPUT;
        double sumCosine = 0;
        double worst = Double.POSITIVE_INFINITY;
        double maxDiff = Double.NEGATIVE_INFINITY;
        double sumDiff = 0;
        double sumSquares = 0;
        long count = 0;
        double signal = 0;
        double noise = 0;
        int agree = 0;
        int decisive = 0;
        int nearTies = 0;
        for (int i = 0; i < n; i++) {
            float[] a = got.rows[i];
            float[] b = want.rows[i];
            double dots = 0;
            double aSquares = 0;
            double bSquares = 0;
            boolean anyNonZero = false;
            boolean identical = true;
            for (int k = 0; k < a.length; k++) {
                double x = a[k];
                double y = b[k];
                dots += x * y;
                aSquares += x * x;
                bSquares += y * y;
                anyNonZero |= x != 0 || y != 0; // NaN != 0: a NaN output is not an all-zero one
                double diff = difference(x, y);
                identical &= diff == 0;
                maxDiff = Math.max(maxDiff, diff);
                sumDiff += diff;
                sumSquares += diff * diff;
                count++;
                signal += y * y;
                noise += (x - y) * (x - y);
            }
            double norms = Math.sqrt(aSquares) * Math.sqrt(bSquares);
            // Two all-zero outputs are identical; one all-zero output against another is as far apart as can be.
            double cosine = nanToNum(norms > 0 ? dots / norms : anyNonZero ? 0.0 : 1.0, 0.0); // NaN/inf must fail
            cosine = identical ? 1.0 : cosine; // the same values, NaN included: a runner against itself
            sumCosine += cosine;
            worst = Math.min(worst, cosine);
            boolean same = NumericsCheck.argmax(a) == NumericsCheck.argmax(b);
            boolean counted = margin(b) > tieMargin || tieMargin <= 0;
            decisive += counted ? 1 : 0;
            agree += counted && same ? 1 : 0;
            nearTies += !counted && !same ? 1 : 0;
        }
        double rms = count == 0 ? 0.0 : Math.sqrt(sumSquares / count);
        double scale = scale(want, width);
        CellResult.OutputFidelity f = new CellResult.OutputFidelity();
        f.index = index;
        f.name = name;
        f.cosine = small ? null : sumCosine / n;
        f.minCosine = small ? null : worst;
        f.snrDb = small ? null : snrDb(signal, noise);
        f.maxAbsDiff = maxDiff;
        f.meanAbsDiff = sumDiff / count;
        f.classes = classes;
        f.agreement = classes != null && decisive > 0 ? (double) agree / decisive : null;
        f.decisive = classes != null ? decisive : null;
        f.nearTies = classes != null ? nearTies : 0;
        f.rmsDiff = rms;
        f.relError = scale > 0 ? rms / scale : rms == 0 ? 0.0 : Double.POSITIVE_INFINITY;
        f.step = output.step;
        f.maxSteps = output.step != null && output.step != 0 ? maxDiff / output.step : null;
        return f;
    }

    /** |x - y|; infinite where either is not finite, but 0 where both hold the same value, NaN included. */
    static double difference(double x, double y) {
        if (x == y || (Double.isNaN(x) && Double.isNaN(y))) {
            return 0.0;
        }
        double diff = Math.abs(x - y);
        return Double.isNaN(diff) ? Double.POSITIVE_INFINITY : diff;
    }

    /** The reference's top value less its next (0 for one value; NaN sorted last, as numpy sorts). */
    private static double margin(float[] reference) {
        if (reference.length < 2) {
            return 0.0;
        }
        double[] sorted = new double[reference.length];
        for (int k = 0; k < sorted.length; k++) {
            sorted[k] = reference[k];
        }
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length - 1] - sorted[sorted.length - 2];
    }

    /**
     * The reference's spread (accuracy._scale): the standard deviation of its finite values; their RMS for an
     * output of fewer than SMALL_OUTPUT values a sample or a constant one; 0 when none is finite.
     */
    static double scale(Samples want, int width) {
        double sum = 0;
        double squares = 0;
        long count = 0;
        for (float[] row : want.rows) {
            for (float v : row) {
                if (Float.isFinite(v)) {
                    sum += v;
                    squares += (double) v * v;
                    count++;
                }
            }
        }
        if (count == 0) {
            return 0.0;
        }
        double mean = sum / count;
        double variance = 0;
        for (float[] row : want.rows) {
            for (float v : row) {
                if (Float.isFinite(v)) {
                    variance += (v - mean) * (v - mean);
                }
            }
        }
        double spread = Math.sqrt(variance / count);
        return spread > 0 && width >= SMALL_OUTPUT ? spread : Math.sqrt(squares / count);
    }

    private static double snrDb(double signal, double noise) {
        if (!Double.isFinite(noise)) {
            return -SNR_CAP_DB;
        }
        if (noise == 0) {
            return SNR_CAP_DB;
        }
        if (signal == 0) {
            return -SNR_CAP_DB;
        }
        return Math.max(-SNR_CAP_DB, Math.min(SNR_CAP_DB, 10 * Math.log10(signal / noise)));
    }

    /** Per output: the reference has an array of its size (one made from other inputs does not). */
    static boolean[] fits(List<Samples> outputs, List<Samples> reference) {
        boolean[] fits = new boolean[outputs.size()];
        for (int j = 0; j < fits.length; j++) {
            fits[j] = reference != null && j < reference.size() && reference.get(j).size() == outputs.get(j).size();
        }
        return fits;
    }

    static String name(List<String> names, int j) {
        return j < names.size() ? names.get(j) : "";
    }

    /**
     * The output ``wanted`` names (accuracy.resolve_output): the model's name for it, its tensor's name, or its
     * index; null when it names none.
     */
    public static Integer resolveOutput(String wanted, List<String> names, List<String> tensorNames) {
        if (names.contains(wanted)) {
            return names.indexOf(wanted);
        }
        if (tensorNames.contains(wanted)) {
            return tensorNames.indexOf(wanted);
        }
        if (!wanted.isEmpty() && wanted.chars().allMatch(c -> c >= '0' && c <= '9') && wanted.length() < 10) {
            int index = Integer.parseInt(wanted);
            return index < names.size() ? index : null;
        }
        return null;
    }

    /**
     * Every output against the host fp32 ``reference``; the scored output (``labelsOutput`` where given, else the
     * first class distribution, else output 0) against ``labels``: top-1/top-5 for class ids, MAE for regression
     * targets.
     */
    public static CellResult.Accuracy score(List<Samples> outputs, Samples labels, List<Samples> reference, String task,
            List<String> names, Integer labelsOutput) {
        int n = outputs.isEmpty() ? 0 : outputs.get(0).n();
        boolean[] fits = fits(outputs, reference);
        boolean allFit = reference != null && !reference.isEmpty();
        for (boolean fit : fits) {
            allFit &= fit;
        }
        List<Integer> counts = classCounts(allFit ? reference : outputs, labels, task);
        if (labelsOutput != null) {
            counts = only(counts, labelsOutput, outputs, task);
        }
        int scored = labelsOutput != null ? labelsOutput : Math.max(firstClassDistribution(counts), 0);
        CellResult.Accuracy a = new CellResult.Accuracy();
        a.n = n;
        CellResult.OutputFidelity head = null;
        for (int j = 0; j < outputs.size(); j++) {
            if (reference != null && fits[j]) {
                CellResult.OutputFidelity f = fidelity(j, name(names, j), outputs.get(j), reference.get(j),
                        j < counts.size() ? counts.get(j) : null);
                a.outputs.add(f);
                head = j == scored ? f : head;
            }
        }
        if (head != null && head.classes != null) {
            for (int i = 0; i < n; i++) {
                a.agree.add(NumericsCheck.argmax(outputs.get(scored).rows[i])
                        == NumericsCheck.argmax(reference.get(scored).rows[i]));
            }
        }
        againstLabels(a, outputs, labels, counts, task, labelsOutput);
        a.fp32Agreement = head != null ? head.agreement : null;
        a.maxAbsDiff = head != null ? head.maxAbsDiff : null;
        a.meanAbsDiff = head != null ? head.meanAbsDiff : null;
        a.referenceNote = referenceNote(reference, fits, head);
        return a;
    }

    /**
     * The class counts when the labels belong to output ``chosen`` (accuracy._only): it is the one class
     * distribution (when its sample is one axis of classes), and no other head is scored against the labels.
     */
    private static List<Integer> only(List<Integer> counts, int chosen, List<Samples> outputs, String task) {
        boolean none = task.equals("regression") || task.equals("other");
        Integer classes = none ? null : axisClasses(outputs.get(chosen).shape);
        List<Integer> found = new ArrayList<>();
        for (int j = 0; j < counts.size(); j++) {
            found.add(j == chosen ? classes : null);
        }
        return found;
    }

    private static String referenceNote(List<Samples> reference, boolean[] fits, CellResult.OutputFidelity head) {
        if (reference == null) {
            return "no host fp32 reference (the host could not run the model, or the input set has none)";
        }
        boolean any = false;
        for (boolean fit : fits) {
            any |= fit;
        }
        if (!any) {
            return "the host fp32 reference does not match the outputs' sizes";
        }
        if (head == null) {
            return "the host fp32 reference lacks the scored output";
        }
        return head.classes != null ? "" : "no output is a class distribution: top-1 agreement does not apply";
    }

    private static int firstClassDistribution(List<Integer> counts) {
        for (int j = 0; j < counts.size(); j++) {
            if (counts.get(j) != null && counts.get(j) != 0) {
                return j;
            }
        }
        return -1;
    }

    /** What the labels say about the outputs: task, top-1/top-5 or MAE, or why not (accuracy._against_labels). */
    private static void againstLabels(CellResult.Accuracy a, List<Samples> outputs, Samples labels,
            List<Integer> counts, String task, Integer chosen) {
        int scored = firstClassDistribution(counts);
        String resolved = !task.equals("auto") ? task : scored >= 0 ? "classification" : "other";
        a.task = resolved;
        if (labels == null) {
            a.labelsNote = "no labels";
            return;
        }
        int n = outputs.isEmpty() ? 0 : outputs.get(0).n();
        long[] ids = classIds(labels, n);
        if ((task.equals("auto") || task.equals("classification")) && scored >= 0 && ids != null) {
            a.task = "classification";
            int hits = 0;
            int hitsTop5 = 0;
            for (int i = 0; i < n; i++) {
                int[] ranked = ranked(outputs.get(scored).rows[i], 5);
                boolean hit = ranked[0] == ids[i];
                a.correct.add(hit);
                hits += hit ? 1 : 0;
                for (int r : ranked) {
                    hitsTop5 += r == ids[i] ? 1 : 0;
                }
            }
            a.top1 = (double) hits / n;
            a.top5 = counts.get(scored) >= 5 ? (double) hitsTop5 / n : null;
            return;
        }
        if (task.equals("other")) {
            a.labelsNote = "task other: labels not scored";
            return;
        }
        if (task.equals("classification")) {
            String why = ids == null ? "labels are not class ids" : "no output is a class distribution";
            a.labelsNote = why + ": top-1 not measured";
            return;
        }
        regression(a, chosen == null ? outputs : Collections.singletonList(outputs.get(chosen)), labels, n);
    }

    /** Mean |output - label| over the first output of the labels' size per sample. */
    private static void regression(CellResult.Accuracy a, List<Samples> outputs, Samples labels, int n) {
        int width = n == 0 ? 0 : (int) (labels.size() / n);
        for (Samples output : outputs) {
            if (output.width() == width) {
                double sum = 0;
                for (int i = 0; i < n; i++) {
                    for (int k = 0; k < width; k++) {
                        sum += nanToNum(Math.abs((double) output.rows[i][k] - labels.rows[i][k]),
                                Double.POSITIVE_INFINITY);
                    }
                }
                a.task = "regression";
                a.mae = sum / ((long) n * width);
                return;
            }
        }
        a.labelsNote = "labels of " + width + " values a sample match no output's size";
    }

    /**
     * The indices of the ``k`` largest values, largest first, ties to the lower index (numpy's stable
     * argsort of the negated values: NaN last).
     */
    static int[] ranked(float[] values, int k) {
        Integer[] order = new Integer[values.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> {
            boolean nx = Float.isNaN(values[x]);
            boolean ny = Float.isNaN(values[y]);
            if (nx || ny) {
                return Boolean.compare(nx, ny);
            }
            return values[x] == values[y] ? 0 : values[y] > values[x] ? 1 : -1; // -0.0 ties 0.0, as in numpy
        });
        int[] out = new int[Math.min(k, order.length)];
        for (int i = 0; i < out.length; i++) {
            out[i] = order[i];
        }
        return out;
    }

    /** numpy.nan_to_num: NaN to ``nan``, infinities to the largest finite doubles. */
    static double nanToNum(double value, double nan) {
        if (Double.isNaN(value)) {
            return nan;
        }
        return Double.isInfinite(value) ? Math.copySign(Double.MAX_VALUE, value) : value;
    }

    private static long max(long[] values) {
        long best = Long.MIN_VALUE;
        for (long v : values) {
            best = Math.max(best, v);
        }
        return best;
    }
}
