package com.edgebench.runner.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class InputSetTest {
    @Rule public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void inputsLabelsAndReferenceAreReadFlattenedPerSample() throws Exception {
        File npz = tmp.newFile("inputs.npz");
        TestNpz w = new TestNpz(npz);
        w.uint8("x", new int[] {2, 2, 1}, 0, 255, 7, 9).int64("y", 3, 1).float32("ref", new int[] {2, 2}, 0.5f, 0.5f, 1, 0);
        w.close();
        InputSet set = InputSet.read(npz);
        assertEquals(2, set.size());
        assertArrayEquals(new float[] {0, 255}, set.x[0], 0);
        assertArrayEquals(new long[] {3, 1}, set.y);
        assertArrayEquals(new float[] {1, 0}, set.ref[1], 0);
    }

    @Test
    public void labelsAndReferenceAreOptional() throws Exception {
        File npz = tmp.newFile("x_only.npz");
        TestNpz w = new TestNpz(npz);
        w.float32("x", new int[] {1, 3}, 1, 2, 3);
        w.close();
        InputSet set = InputSet.read(npz);
        assertNull(set.y);
        assertNull(set.ref);
    }

    @Test
    public void aFileWithoutInputsIsRefusedNamingIt() throws Exception {
        File npz = tmp.newFile("empty.npz");
        TestNpz w = new TestNpz(npz);
        w.int64("y", 1);
        w.close();
        IOException e = assertThrows(IOException.class, () -> InputSet.read(npz));
        assertTrue(e.getMessage(), e.getMessage().startsWith(npz + ": no array x"));
    }
}
