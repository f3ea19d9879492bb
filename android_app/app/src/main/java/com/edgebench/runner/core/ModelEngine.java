package com.edgebench.runner.core;

import java.util.List;

/**
 * What every on-phone engine answers alike: the outputs' names and shapes (from the model's {@link ModelIo}) and
 * where the model runs (an {@link Accelerators.Placement}, or null where the API does not say: the Interpreter,
 * and CompiledModel on the CPU). The engines add only feeding, invoking and reading their runtime.
 */
public abstract class ModelEngine implements Engine {
    protected final ModelIo io;
    private final Accelerators.Placement placement;

    protected ModelEngine(ModelIo io, Accelerators.Placement placement) {
        this.io = io;
        this.placement = placement;
    }

    @Override
    public final List<String> outputNames() {
        return io.outputNames;
    }

    @Override
    public final List<int[]> outputShapes() {
        return io.outputShapes;
    }

    @Override
    public final CellResult.Coverage coverage() {
        return placement == null ? null : placement.coverage; // LiteRT's Java APIs do not say which nodes
    }

    @Override
    public final Boolean fullyAccelerated() {
        return placement == null ? null : placement.fullyAccelerated; // the Kotlin API has no isFullyAccelerated
    }

    @Override
    public final String note() {
        return placement == null ? "" : placement.note;
    }
}
