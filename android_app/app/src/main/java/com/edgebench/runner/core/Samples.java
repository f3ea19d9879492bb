package com.edgebench.runner.core;

/**
 * One array of an input set, or one output over every sample: a flattened row per sample and the
 * shape of one sample (numpy's shape[1:]), which says whether an output is a class distribution.
 */
public final class Samples {
    public final int[] shape; // one sample's
    public final float[][] rows;
    public final boolean integer; // stored as integers (class ids, token ids), not floats

    public Samples(int[] shape, float[][] rows, boolean integer) {
        this.shape = shape;
        this.rows = rows;
        this.integer = integer;
    }

    public int n() {
        return rows.length;
    }

    /** Every value, all samples: numpy's size. */
    public long size() {
        long count = 0;
        for (float[] row : rows) {
            count += row.length;
        }
        return count;
    }

    /** Values per sample (0 without samples). */
    public int width() {
        return rows.length == 0 ? 0 : rows[0].length;
    }
}
