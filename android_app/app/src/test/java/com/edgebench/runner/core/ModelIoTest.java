package com.edgebench.runner.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import java.util.List;
import org.junit.Test;

public class ModelIoTest {
    private final Quantization floats = new Quantization(Quantization.Type.FLOAT32, 0f, 0);
    private final ModelIo io = new ModelIo(List.of(floats, floats), List.of(new int[] {1, 2, 2}, new int[] {1, 3}),
            List.of(floats), List.of("Identity"), List.of(new int[] {1, 10}));

    @Test
    public void samplesThatFitEveryInputPass() {
        io.check(new float[][] {{1, 2, 3, 4}, {5, 6, 7}});
    }

    @Test
    public void anotherNumberOfInputsOrAnotherSizeIsRefusedNamingTheInput() {
        Engine.InputsDoNotFit e = assertThrows(Engine.InputsDoNotFit.class, () -> io.check(new float[][] {{1, 2, 3, 4}}));
        assertEquals("the model takes 2 inputs, the input set has 1", e.getMessage());
        e = assertThrows(Engine.InputsDoNotFit.class, () -> io.check(new float[][] {{1, 2, 3, 4}, {5, 6}}));
        assertEquals("input 1 takes [1, 3] (3 values), the input set gives 2 a sample", e.getMessage());
    }
}
