package com.edgebench.runner.core;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.List;

/**
 * A cell's outputs against the same variant run on the host's reference kernels (plain CPU): both
 * carry the variant's quantisation loss, so what differs is the delegate's or the driver's doing.
 * device_runner/accuracy.py's compare and numerics_message, figure for figure and word for word
 * (tests/test_android_schema.py feeds both the same arrays).
 */
public final class NumericsCheck {
    private NumericsCheck() {}

    /**
     * Every output that has a reference of its size, compared; the record is the first output that
     * fails, or the one with the lowest mean cosine when all pass. Null when no output could be
     * compared (no reference for this variant, or one made from other inputs).
     */
    public static CellResult.Numerics check(List<float[][]> outputs, List<float[][]> reference, List<String> names,
            double minAgreement, double minCosine) {
        CellResult.Numerics chosen = null;
        for (int j = 0; j < Math.min(outputs.size(), reference == null ? 0 : reference.size()); j++) {
            if (size(outputs.get(j)) != size(reference.get(j))) {
                continue;
            }
            String name = (j + " " + (j < names.size() ? names.get(j) : "")).trim();
            CellResult.Numerics found = compare(outputs.get(j), reference.get(j), name, minAgreement, minCosine);
            if (!found.passed) {
                return found;
            }
            if (chosen == null || found.cosine < chosen.cosine) {
                chosen = found;
            }
        }
        return chosen;
    }

    /** One output, samples by rows, held to the two tolerances (accuracy.compare). */
    public static CellResult.Numerics compare(float[][] outputs, float[][] reference, String output,
            double minAgreement, double minCosine) {
        int n = outputs.length;
        int agree = 0;
        double sumCosine = 0;
        double worst = Double.POSITIVE_INFINITY;
        double maxDiff = 0;
        boolean finite = true;
        for (int i = 0; i < n; i++) {
            float[] got = outputs[i];
            float[] want = reference[i];
            agree += argmax(got) == argmax(want) ? 1 : 0;
            double dots = 0;
            double gotSquares = 0;
            double wantSquares = 0;
            boolean anyNonZero = false;
            for (int k = 0; k < got.length; k++) {
                double g = got[k];
                double w = want[k];
                dots += g * w;
                gotSquares += g * g;
                wantSquares += w * w;
                anyNonZero |= g != 0 || w != 0; // NaN != 0: a NaN output is not an all-zero one
                finite &= Double.isFinite(g);
                maxDiff = Math.max(maxDiff, nanToNum(Math.abs(g - w), Double.POSITIVE_INFINITY));
            }
            double norms = Math.sqrt(gotSquares) * Math.sqrt(wantSquares);
            // Two all-zero outputs are identical; one all-zero output against another is as far apart as can be.
            double cosine = norms > 0 ? dots / norms : anyNonZero ? 0.0 : 1.0;
            cosine = nanToNum(cosine, 0.0); // a NaN or inf output must fail, never pass
            sumCosine += cosine;
            worst = Math.min(worst, cosine);
        }
        CellResult.Numerics r = new CellResult.Numerics();
        r.n = n;
        r.output = output;
        r.agreement = (double) agree / n;
        r.cosine = sumCosine / n;
        r.minCosine = worst;
        r.maxAbsDiff = maxDiff;
        r.minAgreementAllowed = minAgreement;
        r.minCosineAllowed = minCosine;
        r.passed = finite && r.agreement >= minAgreement && r.cosine >= minCosine;
        return r;
    }

    /** The one line of a wrong_output cell (accuracy.numerics_message). */
    public static String message(CellResult.Numerics r, String delegate) {
        return delegate + " outputs differ from the same variant on the host's reference kernels: top-1 agreement "
                + percent(r.agreement) + " (at least " + percent(r.minAgreementAllowed) + " expected), cosine "
                + fixed(r.cosine, 4) + " (at least " + fixed(r.minCosineAllowed, 4) + "), max |diff| "
                + general(r.maxAbsDiff) + " on output " + r.output + ", over " + r.n + " samples";
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

    /** numpy.nan_to_num: NaN to ``nan``, infinities to the largest finite doubles. */
    private static double nanToNum(double value, double nan) {
        if (Double.isNaN(value)) {
            return nan;
        }
        return Double.isInfinite(value) ? Math.copySign(Double.MAX_VALUE, value) : value;
    }

    private static int size(float[][] rows) {
        int count = 0;
        for (float[] row : rows) {
            count += row.length;
        }
        return count;
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
