package com.edgebench.runner.core;

import java.util.ArrayList;
import java.util.List;

/**
 * What a variant's outputs can be held to (device_runner/precision.py): whether it computes in integers, and
 * each output's quantisation step with the range its integers reach, after dequantisation.
 */
public final class Precision {
    /** One output's quantisation: its step (null for a float output) and its integer type's ends. */
    public static final class Output {
        public final Double step;
        public final Double low;
        public final Double high;

        public Output(Double step, Double low, Double high) {
            this.step = step;
            this.low = low;
            this.high = high;
        }

        /** A quantised output's step and range, from its tensor's quantisation. */
        public static Output of(Quantization q) {
            if (!q.quantized()) {
                return FLOAT;
            }
            double step = q.scale;
            return new Output(step, (q.type.low - q.zeroPoint) * step, (q.type.high - q.zeroPoint) * step);
        }
    }

    public static final Output FLOAT = new Output(null, null, null);

    public final boolean integerArithmetic;
    public final List<Output> outputs;

    public Precision(boolean integerArithmetic, List<Output> outputs) {
        this.integerArithmetic = integerArithmetic;
        this.outputs = outputs;
    }

    /** Float outputs of a model that computes in floats: what a check without a model's figures assumes. */
    public static Precision floats() {
        return new Precision(false, new ArrayList<>());
    }

    Output output(int j) {
        return j < outputs.size() ? outputs.get(j) : FLOAT;
    }
}
