package com.edgebench.runner.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import java.util.List;
import org.junit.Test;

public class ModelEngineTest {
    private final Quantization floats = new Quantization(Quantization.Type.FLOAT32, 0f, 0);
    private final ModelIo io = new ModelIo(List.of(floats), List.of(new int[] {1, 4}), List.of(floats, floats),
            List.of("logits", "boxes"), List.of(new int[] {1, 10}, new int[] {1, 5, 4}));

    /** An engine that runs nothing: what the base answers is all there is to see. */
    private static final class Idle extends ModelEngine {
        Idle(ModelIo io, Accelerators.Placement placement) {
            super(io, placement);
        }

        @Override
        public void setInputs(float[][] inputs) {}

        @Override
        public void invoke() {}

        @Override
        public float[][] outputs() {
            return new float[0][];
        }

        @Override
        public void close() {}
    }

    @Test
    public void theOutputsNamesAndShapesAreTheModelsInItsOrder() {
        Engine engine = new Idle(io, null);
        assertEquals(List.of("logits", "boxes"), engine.outputNames());
        assertArrayEquals(new int[] {1, 5, 4}, engine.outputShapes().get(1));
    }

    @Test
    public void withoutAPlacementTheEngineSaysNothingOfWhereItRuns() {
        Engine engine = new Idle(io, null);
        assertNull(engine.coverage());
        assertNull(engine.fullyAccelerated());
        assertEquals("", engine.note());
    }

    @Test
    public void aPlacementIsReportedAsItIs() {
        CellResult.Coverage share = new CellResult.Coverage(3, 4);
        Engine engine = new Idle(io, new Accelerators.Placement(false, share, "npu runs 3 of 4 nodes"));
        assertSame(share, engine.coverage());
        assertTrue(Boolean.FALSE.equals(engine.fullyAccelerated()));
        assertEquals("npu runs 3 of 4 nodes", engine.note());
    }
}
