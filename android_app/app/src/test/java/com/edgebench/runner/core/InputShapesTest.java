package com.edgebench.runner.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertThrows;

import java.util.Base64;
import java.util.List;
import org.junit.Test;

public class InputShapesTest {
    /**
     * tests/support/tiny_models.py's two_inputs(batch=-1), as written by LiteRT's own flatbuffer schema: x [-1, 4] and
     * mask [-1, 16], placeholder shapes [1, 4] and [1, 16].
     */
    private static final byte[] FREE_BATCH = Base64.getDecoder().decode(
            "GAAAAFRGTDMAAA4AFAAQAAwACAAAAAQADgAAABAAAAAYAAAA0AEAAAMAAAABAAAABAAAABz+//8BAAAAEAAAAAwAFAAQAAwACAAE"
            + "AAwAAAAQAAAAlAAAAJwAAACkAAAAAgAAAFgAAAAUAAAAAAAOABgAFAAQAAwACwAEAA4AAAAUAAAAAAAAFRAAAAAUAAAAAQAAAHz+"
            + "//8BAAAAAwAAAAIAAAABAAAAAQAAAAAADgAUAAAAEAAMAAsABAAOAAAAEAAAAAAAAAsMAAAAEAAAALj+//8BAAAAAgAAAAIAAAAA"
            + "AAAAAAAAAAIAAAACAAAAAwAAAAIAAAAAAAAAAQAAAAQAAADAAAAAdAAAADwAAAAEAAAAZP///wwAAAAUAAAAHAAAAAIAAAD/////"
            + "EAAAAAcAAABzcXVhcmVkAAIAAAABAAAAEAAAAJj///8MAAAAFAAAABwAAAACAAAA/////wQAAAAHAAAAZG91YmxlZAACAAAAAQAA"
            + "AAQAAADM////DAAAABQAAAAcAAAAAgAAAP////8QAAAABAAAAG1hc2sAAAAAAgAAAAEAAAAQAAAAFAAQAAwAAAAAAAgAAAAAAAAA"
            + "BAAUAAAADAAAABQAAAAYAAAAAgAAAP////8EAAAAAQAAAHgAAAACAAAAAQAAAAQAAAACAAAAJAAAABAAAAAMAAwACwAAAAAABAAM"
            + "AAAAEgAAAAAAABIEAAQABAAAAA==");

    @Test
    public void aSampleWithoutItsBatchAxisFeedsABatchOfOne() {
        assertArrayEquals(new int[] {1, 1280}, InputShapes.fed(new int[] {1280}, 2));
        assertArrayEquals(new int[] {4, 1280}, InputShapes.fed(new int[] {4, 1280}, 2));
    }

    @Test
    public void theModelIsLeftAsItIsWhenItsPlaceholderShapesAreTheOnesFed() {
        assertSame(FREE_BATCH, InputShapes.apply(FREE_BATCH, List.of(new int[] {4}, new int[] {16})));
    }

    @Test
    public void aDynamicDimensionIsWrittenIntoACopyBeforeAnythingAllocatesIt() {
        byte[] before = FREE_BATCH.clone();
        byte[] sized = InputShapes.apply(FREE_BATCH, List.of(new int[] {3, 4}, new int[] {3, 16}));
        List<ModelOps.Input> inputs = ModelOps.inputs(sized);
        assertEquals("x", inputs.get(0).name);
        assertArrayEquals(new int[] {3, 4}, inputs.get(0).shape);
        assertArrayEquals(new int[] {3, 16}, inputs.get(1).shape);
        assertArrayEquals(new int[] {-1, 16}, inputs.get(1).declared); // still dynamic: only the placeholder moved
        assertArrayEquals(before, FREE_BATCH); // the given bytes are untouched
        assertEquals(FREE_BATCH.length, sized.length);
    }

    @Test
    public void aSampleThatContradictsAFixedDimensionOrTheInputCountIsRefusedNamingTheInput() {
        Engine.InputsDoNotFit e = assertThrows(Engine.InputsDoNotFit.class,
                () -> InputShapes.apply(FREE_BATCH, List.of(new int[] {5}, new int[] {16})));
        assertEquals("input 'x' (index 0) takes [-1, 4], the input set gives [1, 5]", e.getMessage());
        e = assertThrows(Engine.InputsDoNotFit.class, () -> InputShapes.apply(FREE_BATCH, List.of(new int[] {4})));
        assertEquals("the model takes 2 inputs, the input set has 1", e.getMessage());
    }
}
