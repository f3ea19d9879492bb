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

    /**
     * Every output against the same variant's reference-kernel outputs (accuracy.compare): each held to
     * ``minCosine``, and the class distributions (``classes``) to ``minAgreement`` too. The figures are of
     * the worst output: the failing one with the lowest cosine, else the lowest cosine. Null when no
     * output has a reference of its size (no reference for this variant, or one made from other inputs).
     */
    public static CellResult.Numerics compare(List<Samples> outputs, List<Samples> reference, List<String> names,
            List<Integer> classes, double minAgreement, double minCosine) {
        boolean[] fits = Scoring.fits(outputs, reference);
        List<CellResult.OutputFidelity> heads = new ArrayList<>();
        CellResult.OutputFidelity worst = null;
        CellResult.OutputFidelity worstFailing = null;
        for (int j = 0; j < outputs.size(); j++) {
            if (!fits[j]) {
                continue;
            }
            CellResult.OutputFidelity h = Scoring.fidelity(j, Scoring.name(names, j), outputs.get(j), reference.get(j),
                    j < classes.size() ? classes.get(j) : null);
            heads.add(h);
            boolean agreed = h.agreement == null || h.agreement >= minAgreement;
            boolean passes = finite(outputs.get(j)) && agreed && h.cosine >= minCosine;
            worst = worst == null || h.cosine < worst.cosine ? h : worst; // min(): the first of equals
            if (!passes && (worstFailing == null || h.cosine < worstFailing.cosine)) {
                worstFailing = h;
            }
        }
        if (heads.isEmpty()) {
            return null;
        }
        CellResult.OutputFidelity chosen = worstFailing != null ? worstFailing : worst;
        CellResult.Numerics r = new CellResult.Numerics();
        r.n = outputs.get(chosen.index).n();
        r.output = (chosen.index + " " + chosen.name).trim();
        r.agreement = chosen.agreement;
        r.cosine = chosen.cosine;
        r.minCosine = chosen.minCosine;
        r.maxAbsDiff = chosen.maxAbsDiff;
        r.minAgreementAllowed = minAgreement;
        r.minCosineAllowed = minCosine;
        r.passed = worstFailing == null;
        r.outputs = heads;
        return r;
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

    /** The one line of a wrong_output cell, naming the worst output (accuracy.numerics_message). */
    public static String message(CellResult.Numerics r, String delegate) {
        String agreement = r.agreement == null ? "" : "top-1 agreement " + percent(r.agreement) + " (at least "
                + percent(r.minAgreementAllowed) + " expected), ";
        String of = r.outputs.size() > 1 ? " (the worst of " + r.outputs.size() + " outputs)" : "";
        return delegate + " outputs differ from the same variant on the host's reference kernels: " + agreement
                + "cosine " + fixed(r.cosine, 4) + " (at least " + fixed(r.minCosineAllowed, 4) + "), max |diff| "
                + general(r.maxAbsDiff) + " on output " + r.output + of + ", over " + r.n + " samples";
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
        return Double.isFinite(value) ? fixed(value * 100, 1) + "%" : special(value * 100) + "%";
    }

    /** ``{:.Nf}`` */
    static String fixed(double value, int decimals) {
        if (!Double.isFinite(value)) {
            return special(value);
        }
        return new BigDecimal(value).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString();
    }

    /** ``{:.4g}``: four significant digits, trailing zeros dropped, exponent form outside 1e-4 .. 1e4. */
    static String general(double value) {
        if (!Double.isFinite(value)) {
            return special(value);
        }
        if (value == 0) {
            return Math.copySign(1.0, value) < 0 ? "-0" : "0";
        }
        BigDecimal rounded = new BigDecimal(value).round(new MathContext(4, RoundingMode.HALF_EVEN));
        int exponent = rounded.precision() - rounded.scale() - 1;
        if (exponent >= -4 && exponent < 4) {
            return strip(rounded.setScale(Math.max(0, 3 - exponent), RoundingMode.HALF_EVEN).toPlainString());
        }
        BigDecimal mantissa = rounded.movePointLeft(exponent);
        String exp = String.format("%02d", Math.abs(exponent));
        return strip(mantissa.setScale(3, RoundingMode.HALF_EVEN).toPlainString()) + "e" + (exponent < 0 ? "-" : "+")
                + exp;
    }

    private static String strip(String digits) {
        return digits.contains(".") ? digits.replaceAll("0+$", "").replaceAll("\\.$", "") : digits;
    }

    private static String special(double value) {
        return Double.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
    }
}
