package com.edgebench.runner.core;

/**
 * Top-1 against labels; top-1 agreement and |diff| against the host fp32 outputs (device_runner/accuracy.py),
 * on the model's first output.
 */
public final class Scoring {
    private Scoring() {}

    public static CellResult.Accuracy score(float[][] outputs, long[] labels, float[][] reference) {
        int n = outputs.length;
        CellResult.Accuracy a = new CellResult.Accuracy();
        a.n = n;
        int correct = 0;
        int agree = 0;
        double maxDiff = 0;
        double sumDiff = 0;
        long count = 0;
        for (int i = 0; i < n; i++) {
            int predicted = argmax(outputs[i]);
            if (labels != null) {
                boolean right = predicted == labels[i];
                a.correct.add(right);
                correct += right ? 1 : 0;
            }
            if (reference != null) {
                boolean same = predicted == argmax(reference[i]);
                a.agree.add(same);
                agree += same ? 1 : 0;
                for (int j = 0; j < outputs[i].length; j++) {
                    double diff = Math.abs((double) outputs[i][j] - reference[i][j]);
                    maxDiff = Math.max(maxDiff, diff);
                    sumDiff += diff;
                    count++;
                }
            }
        }
        a.top1 = labels != null ? (double) correct / n : null;
        a.fp32Agreement = reference != null ? (double) agree / n : null;
        a.maxAbsDiff = reference != null ? maxDiff : null;
        a.meanAbsDiff = reference != null ? sumDiff / count : null;
        return a;
    }

    /** First index of the largest value (or of the first NaN), as numpy's argmax. */
    static int argmax(float[] values) {
        return NumericsCheck.argmax(values);
    }
}
