package com.edgebench.runner.core;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/**
 * A cell's outputs against the same variant run on the host's reference kernels (plain CPU): both
 * carry the variant's quantisation loss, so what differs is the delegate's or the driver's doing.
 * device_runner/accuracy.py's compare and numerics_message, figure for figure and word for word
 * (tests/integration/test_android_schema.py feeds both the same arrays), with the number formats of Python it uses.
 */
public final class NumericsCheck {
    private NumericsCheck() {}

    public static final String NOT_FINITE = "NaN/inf"; // schema.FailureClass, word for word
    public static final String ALL_ZEROS = "all zeros";
    public static final String SATURATED = "saturated";
    public static final String DRIFT = "drift";
    static final double SATURATED_SHARE = 0.5; // accuracy.SATURATED_SHARE

    /** Every output of a float variant, held to the default error tolerances and these two (accuracy.compare). */
    public static CellResult.Numerics compare(List<Samples> outputs, List<Samples> reference, List<String> names,
            List<Integer> classes, double minAgreement, double minCosine) {
        return compare(outputs, reference, names, classes, minAgreement, minCosine, Precision.floats(),
                new Plan.Measurement(), "");
    }

    /**
     * Every output against the same variant's reference-kernel outputs, each in its own precision and scale
     * (accuracy.compare): its RMS error held to its tolerance; the class distributions to ``minAgreement`` over
     * their decisive samples; a float variant's outputs of at least SMALL_OUTPUT values to ``minCosine`` too.
     * The figures are of the worst output: the failing one furthest past its tolerance, else the one nearest it.
     * Null when no output has a reference of its size.
     */
    public static CellResult.Numerics compare(List<Samples> outputs, List<Samples> reference, List<String> names,
            List<Integer> classes, double minAgreement, double minCosine, Precision precision, Plan.Measurement m,
            String state) {
        boolean[] fits = Scoring.fits(outputs, reference);
        List<CellResult.OutputFidelity> heads = new ArrayList<>();
        Worst any = new Worst();
        Worst failing = new Worst();
        for (int j = 0; j < outputs.size(); j++) {
            if (!fits[j]) {
                continue;
            }
            Precision.Output output = precision.output(j);
            double[] allowed = tolerance(Scoring.scale(reference.get(j), width(reference.get(j))), output,
                    precision.integerArithmetic, m);
            CellResult.OutputFidelity h = Scoring.fidelity(j, Scoring.name(names, j), outputs.get(j), reference.get(j),
                    j < classes.size() ? classes.get(j) : null, output, allowed[1]);
            String failure = failureClass(outputs.get(j), reference.get(j), output);
            h.failure = failure.isEmpty()
                    ? drift(h, allowed[0], minAgreement, precision.integerArithmetic ? null : minCosine) : failure;
            heads.add(h);
            any.offer(h, allowed);
            if (!h.failure.isEmpty()) {
                failing.offer(h, allowed);
            }
        }
        if (heads.isEmpty()) {
            return null;
        }
        Worst chosen = failing.head != null ? failing : any;
        CellResult.OutputFidelity worst = chosen.head;
        CellResult.Numerics r = new CellResult.Numerics();
        r.n = outputs.get(worst.index).n();
        r.output = (worst.index + " " + worst.name).trim();
        r.agreement = worst.agreement;
        r.cosine = worst.cosine;
        r.minCosine = worst.minCosine;
        r.maxAbsDiff = worst.maxAbsDiff;
        r.minAgreementAllowed = minAgreement;
        r.minCosineAllowed = minCosine;
        r.passed = failing.head == null;
        r.outputs = heads;
        r.failure = worst.failure;
        r.maxErrorAllowed = chosen.tolerance[2];
        r.maxStepsAllowed = m.numericsMaxSteps;
        r.state = state;
        return r;
    }

    /** The output furthest past its tolerance so far: max() over them, the first of equals kept. */
    private static final class Worst {
        CellResult.OutputFidelity head;
        double[] tolerance;
        double past = Double.NEGATIVE_INFINITY;

        void offer(CellResult.OutputFidelity h, double[] allowed) {
            double found = past(h, allowed[0]);
            if (head == null || found > past) {
                head = h;
                tolerance = allowed;
                past = found;
            }
        }
    }

    private static int width(Samples values) {
        return values.n() == 0 ? 0 : values.rows[0].length;
    }

    /** {RMS error allowed, near-tie margin, the spread's share behind it} (accuracy.tolerance). */
    static double[] tolerance(double scale, Precision.Output output, boolean integerArithmetic, Plan.Measurement m) {
        double maxError = integerArithmetic ? m.numericsMaxErrorQuantized : m.numericsMaxError;
        boolean stepped = output.step != null && output.step != 0;
        double steps = stepped ? m.numericsMaxSteps * output.step : 0.0;
        double tie = stepped ? steps : maxError * scale;
        return new double[] {Math.max(maxError * scale, steps), tie, maxError};
    }

    /** NaN/inf, all zeros, stuck at the quantised range's ends, or "" (accuracy.failure_class). */
    static String failureClass(Samples got, Samples want, Precision.Output output) {
        if (!finite(got) && finite(want)) {
            return NOT_FINITE;
        }
        if (!nonZero(got) && nonZero(want)) {
            return ALL_ZEROS;
        }
        if (output.low != null && output.high != null && output.step != null && output.step != 0) {
            if (atEnds(got, output) >= SATURATED_SHARE && atEnds(want, output) < SATURATED_SHARE / 2) {
                return SATURATED;
            }
        }
        return "";
    }

    private static double atEnds(Samples values, Precision.Output output) {
        double half = output.step / 2;
        long ends = 0;
        long count = 0;
        for (float[] row : values.rows) {
            for (float v : row) {
                ends += v <= output.low + half || v >= output.high - half ? 1 : 0;
                count++;
            }
        }
        return (double) ends / count;
    }

    private static boolean nonZero(Samples values) {
        for (float[] row : values.rows) {
            for (float v : row) {
                if (v != 0) { // NaN != 0, as numpy's any() reads it
                    return true;
                }
            }
        }
        return false;
    }

    private static String drift(CellResult.OutputFidelity h, double allowed, double minAgreement, Double minCosine) {
        boolean disagrees = h.agreement != null && h.agreement < minAgreement;
        boolean cosineLow = minCosine != null && h.cosine != null && h.cosine < minCosine;
        return h.rmsDiff > allowed || disagrees || cosineLow ? DRIFT : "";
    }

    /** How far past (above 1) or within (below 1) its tolerance an output's error is (accuracy._past). */
    private static double past(CellResult.OutputFidelity h, double allowed) {
        return allowed > 0 ? h.rmsDiff / allowed : h.rmsDiff == 0 ? 0.0 : Double.POSITIVE_INFINITY;
    }

    private static boolean finite(Samples values) {
        for (float[] row : values.rows) {
            for (float v : row) {
                if (!Float.isFinite(v)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The one line of a wrong_output cell: its failure class and the worst output's figures (numerics_message). */
    public static String message(CellResult.Numerics r, String delegate) {
        CellResult.OutputFidelity head = null;
        for (CellResult.OutputFidelity h : r.outputs) {
            if (head == null && (h.index + " " + h.name).trim().equals(r.output)) {
                head = h;
            }
        }
        List<String> figures = new ArrayList<>();
        if (head.agreement != null) {
            String over = head.decisive != null ? " of " + head.decisive + " decisive samples" : "";
            String ties = head.nearTies != 0 ? "; " + head.nearTies + " near-ties apart" : "";
            figures.add("top-1 agreement " + percent(head.agreement, 1) + over + " (at least "
                    + percent(r.minAgreementAllowed, 1) + " expected" + ties + ")");
        }
        if (head.cosine != null) {
            figures.add("cosine " + fixed(head.cosine, 4) + " (at least " + fixed(r.minCosineAllowed, 4) + ")");
        }
        if (head.relError != null && Double.isFinite(head.relError.doubleValue()) && head.cosine != null) {
            String allowed = r.maxErrorAllowed == null ? "" : " (at most " + percent(r.maxErrorAllowed, 0) + ")";
            figures.add("RMS error " + percent(head.relError, 1) + " of the reference's spread" + allowed);
        }
        boolean steps = head.maxSteps != null && Double.isFinite(head.maxSteps.doubleValue());
        figures.add("max |diff| " + general(r.maxAbsDiff, 4) + (steps ? " = " + general(head.maxSteps, 3)
                + " output steps" : ""));
        String of = r.outputs.size() > 1 ? " (the worst of " + r.outputs.size() + " outputs)" : "";
        String failure = r.failure == null || r.failure.isEmpty() ? "" : r.failure + ": ";
        return delegate + " outputs differ from the same variant on the host's reference kernels: " + failure
                + String.join(", ", figures) + " on output " + r.output + of + ", over " + r.n + " samples";
    }

    /** numpy.argmax: the first index of the largest value, and the first NaN when there is one. */
    static int argmax(float[] values) {
        int best = 0;
        for (int i = 0; i < values.length; i++) {
            if (Float.isNaN(values[i])) {
                return i;
            }
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    // Python's format specs, from the double's exact value rounded half-even, as CPython rounds.

    /** ``{:.1%}`` */
    static String percent(double value) {
        return percent(value, 1);
    }

    /** ``{:.N%}`` */
    static String percent(double value, int decimals) {
        return Double.isFinite(value) ? fixed(value * 100, decimals) + "%" : special(value * 100) + "%";
    }

    /** ``{:.Nf}`` */
    static String fixed(double value, int decimals) {
        if (!Double.isFinite(value)) {
            return special(value);
        }
        return new BigDecimal(value).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString();
    }

    /** ``{:.4g}`` */
    static String general(double value) {
        return general(value, 4);
    }

    /** ``{:.Ng}``: N significant digits, trailing zeros dropped, exponent form outside 1e-4 .. 1e(N). */
    static String general(double value, int digits) {
        if (!Double.isFinite(value)) {
            return special(value);
        }
        if (value == 0) {
            return Math.copySign(1.0, value) < 0 ? "-0" : "0";
        }
        BigDecimal rounded = new BigDecimal(value).round(new MathContext(digits, RoundingMode.HALF_EVEN));
        int exponent = rounded.precision() - rounded.scale() - 1;
        if (exponent >= -4 && exponent < digits) {
            return strip(rounded.setScale(Math.max(0, digits - 1 - exponent), RoundingMode.HALF_EVEN).toPlainString());
        }
        BigDecimal mantissa = rounded.movePointLeft(exponent);
        String exp = String.format("%02d", Math.abs(exponent));
        return strip(mantissa.setScale(digits - 1, RoundingMode.HALF_EVEN).toPlainString()) + "e" + (exponent < 0 ? "-" : "+")
                + exp;
    }

    private static String strip(String digits) {
        return digits.contains(".") ? digits.replaceAll("0+$", "").replaceAll("\\.$", "") : digits;
    }

    private static String special(double value) {
        return Double.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
    }
}
