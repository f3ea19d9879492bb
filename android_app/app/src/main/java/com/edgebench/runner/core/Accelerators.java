package com.edgebench.runner.core;

import com.edgebench.runner.core.Engine.DelegateUnavailable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * Whether the accelerator a CompiledModel cell asks for is on the phone ({@link #absent}), and once compiled,
 * how much of the model it really runs ({@link #place}): a CPU figure is never reported as the GPU's or the
 * NPU's (issues 17 and 22).
 */
public final class Accelerators {
    private Accelerators() {}

    /**
     * Why the cell's ``delegate`` (LiteRT's ``accelerator``: CPU, GPU, NPU) cannot run here given what
     * LiteRT's environment offers, or null when it can.
     */
    public static String absent(String delegate, String accelerator, Set<String> available) {
        if (available.contains(accelerator)) {
            return null;
        }
        List<String> offered = new ArrayList<>(available);
        Collections.sort(offered);
        return delegate + " accelerator is not on this device (LiteRT offers "
                + (offered.isEmpty() ? "none" : String.join(", ", offered)) + "): nothing is measured on another in its name";
    }

    /** A CompiledModel cell's delegate as LiteRT takes it (device_runner/delegates.py's spelling). */
    public static final class Request {
        public final String accelerator; // LiteRT's Accelerator: CPU (XNNPACK), GPU, NPU
        public final boolean fp32; // gpu:fp32: the GPU held to fp32 (GpuOptions.Precision.FP32), not its default

        Request(String accelerator, boolean fp32) {
            this.accelerator = accelerator;
            this.fp32 = fp32;
        }
    }

    /**
     * What ``delegate`` asks of LiteRT's CompiledModel: xnnpack (its CPU accelerator), gpu at its default
     * precision (fp16 where the GPU allows it), gpu:fp32, npu; null when it names no accelerator of that API.
     */
    public static Request request(String delegate) {
        switch (delegate) {
            case "xnnpack":
                return new Request("CPU", false);
            case "gpu":
                return new Request("GPU", false);
            case "gpu:fp32":
                return new Request("GPU", true);
            case "npu":
                return new Request("NPU", false);
            default:
                return null;
        }
    }

    /** Compiles the cell's model for its accelerator, alone or with LiteRT's CPU beside it. */
    public interface Compiler {
        /** Null when it compiled (the engine keeps that model), else LiteRT's reason. */
        String compile(boolean withCpu);
    }

    /** Where a compiled cell really runs: what the result says beside its figures. */
    public static final class Placement {
        public final boolean fullyAccelerated;
        public final CellResult.Coverage coverage; // null where LiteRT does not say
        public final String note;

        Placement(boolean fullyAccelerated, CellResult.Coverage coverage, String note) {
            this.fullyAccelerated = fullyAccelerated;
            this.coverage = coverage;
            this.note = note;
        }
    }

    /**
     * The rule device_runner/engines.py applies on Linux, with what LiteRT's Kotlin API lets the app see (it has
     * no isFullyAccelerated, and turns an NPU-only request into NPU + CPU):
     * - gpu: compiled alone, LiteRT refuses a model the GPU cannot take whole, so success means every op runs on
     *   it. When it refuses, LiteRT with the CPU beside would not say how much the GPU runs (its log is not
     *   the app's to read), possibly nothing: delegate_unavailable, so no CPU figure is reported as the GPU's.
     * - npu: what the NPU runs is the model's dispatch ops (compiled ahead of time for it). None: on the CPU
     *   under the NPU's name, delegate_unavailable before compiling. All nodes: fully accelerated. Some: partial,
     *   with the share in nodes.
     */
    public static Placement place(String delegate, Compiler compiler, ModelOps.Nodes nodes) throws DelegateUnavailable {
        if ("npu".equals(delegate)) {
            if (nodes.dispatch == 0) {
                throw new DelegateUnavailable("npu: the model has no dispatch op (it is not compiled ahead of time "
                        + "for an NPU), and LiteRT's Kotlin API adds the CPU to an NPU request without saying whether "
                        + "the NPU took any op: nothing is measured in the NPU's name");
            }
            String refused = compiler.compile(true);
            if (refused != null) {
                throw new DelegateUnavailable("npu is not available on this device: " + refused);
            }
            CellResult.Coverage share = new CellResult.Coverage(nodes.dispatch, nodes.total);
            if (nodes.dispatch == nodes.total) {
                return new Placement(true, share, "every op runs on the npu");
            }
            return new Placement(false, share, "the npu runs " + nodes.dispatch + " of " + nodes.total
                    + " nodes (its dispatch ops); the CPU runs the rest");
        }
        String refused = compiler.compile(false);
        if (refused != null) {
            throw new DelegateUnavailable(delegate + " could not take the whole model (" + refused + "); with the CPU "
                    + "beside it LiteRT's Kotlin API does not say how much would run on the " + delegate
                    + ", so nothing is measured in its name");
        }
        return new Placement(true, null, "every op runs on the " + delegate);
    }
}
