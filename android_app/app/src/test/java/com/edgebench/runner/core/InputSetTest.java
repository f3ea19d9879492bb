package com.edgebench.runner.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class InputSetTest {
    @Rule public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void thePreviousLayoutIsReadAsInputZeroAndOutputZero() throws Exception {
        File npz = tmp.newFile("inputs.npz");
        TestNpz w = new TestNpz(npz);
        w.uint8("x", new int[] {2, 2, 1}, 0, 255, 7, 9).int64("y", 3, 1).float32("ref", new int[] {2, 2}, 0.5f, 0.5f, 1, 0);
        w.float32("ref.int8", new int[] {2, 2}, 0.4f, 0.6f, 0.9f, 0.1f);
        w.close();
        InputSet set = InputSet.read(npz);
        assertEquals(2, set.size());
        assertEquals(1, set.inputs.size());
        assertArrayEquals(new float[] {0, 255}, set.sample(0)[0], 0);
        assertArrayEquals(new float[] {1}, set.labels.rows[1], 0);
        assertTrue(set.labels.integer); // class ids, as int64 arrays hold them
        assertArrayEquals(new float[] {1, 0}, set.reference.get(0).rows[1], 0);
        List<Samples> int8 = set.variantReference("int8");
        assertEquals(1, int8.size());
        assertArrayEquals(new float[] {0.9f, 0.1f}, int8.get(0).rows[1], 0);
        assertFalse(set.synthetic);
    }

    @Test
    public void version2HoldsOneArrayPerInputAndPerOutputAndEachVariantsReference() throws Exception {
        File npz = tmp.newFile("v2.npz");
        TestNpz w = new TestNpz(npz);
        w.float32("x.0", new int[] {2, 3}, 1, 2, 3, 4, 5, 6).int32("x.1", new int[] {2, 2}, 7, 8, 9, 10);
        w.float32("ref.0", new int[] {2, 1}, 0.1f, 0.2f).float32("ref.1", new int[] {2, 2}, 1, 2, 3, 4);
        // a paired plan's variants carry their side in their name: the output number is the last part
        w.float32("ref.baseline.fp32.0", new int[] {2, 1}, 0.3f, 0.4f);
        w.float32("ref.baseline.fp32.1", new int[] {2, 2}, 5, 6, 7, 8);
        w.bool("synthetic", true);
        w.close();
        InputSet set = InputSet.read(npz);
        assertEquals(2, set.size());
        assertArrayEquals(new float[] {4, 5, 6}, set.sample(1)[0], 0);
        assertArrayEquals(new float[] {9, 10}, set.sample(1)[1], 0); // integer inputs keep their values
        assertEquals(2, set.reference.size());
        assertArrayEquals(new int[] {2}, set.reference.get(1).shape); // one sample's shape: axis 0 is the samples
        assertArrayEquals(new float[] {3, 4}, set.reference.get(1).rows[1], 0);
        assertNull(set.labels);
        assertTrue(set.synthetic);
        List<Samples> baseline = set.variantReference("baseline.fp32");
        assertEquals(2, baseline.size());
        assertArrayEquals(new float[] {7, 8}, baseline.get(1).rows[1], 0);
        assertNull(set.variantReference("candidate.fp32"));
    }

    @Test
    public void labelsAndReferenceAreOptional() throws Exception {
        File npz = tmp.newFile("x_only.npz");
        TestNpz w = new TestNpz(npz);
        w.float32("x.0", new int[] {1, 3}, 1, 2, 3);
        w.close();
        InputSet set = InputSet.read(npz);
        assertNull(set.labels);
        assertNull(set.reference);
        assertNull(set.variantReference("fp32"));
    }

    @Test
    public void aFileWithoutInputsIsRefusedNamingIt() throws Exception {
        File npz = tmp.newFile("empty.npz");
        TestNpz w = new TestNpz(npz);
        w.int64("y", 1);
        w.close();
        IOException e = assertThrows(IOException.class, () -> InputSet.read(npz));
        assertEquals(npz + ": no inputs (neither x.0 nor x)", e.getMessage());
    }

    @Test
    public void inputsNumberedWithAGapAreRefusedNamingTheNumbers() throws Exception {
        File npz = tmp.newFile("gap.npz");
        TestNpz w = new TestNpz(npz);
        w.float32("x.0", new int[] {1, 1}, 1).float32("x.2", new int[] {1, 1}, 2);
        w.close();
        IOException e = assertThrows(IOException.class, () -> InputSet.read(npz));
        assertEquals(npz + ": x.<n> arrays are not numbered 0..1: [0, 2]", e.getMessage());
    }

    @Test
    public void arraysWithAnotherNumberOfSamplesAreRefusedNamingBoth() throws Exception {
        File npz = tmp.newFile("short.npz");
        TestNpz w = new TestNpz(npz);
        w.float32("x.0", new int[] {2, 1}, 1, 2).float32("x.1", new int[] {1, 1}, 3);
        w.close();
        IOException e = assertThrows(IOException.class, () -> InputSet.read(npz));
        assertEquals(npz + ": x.1 has 1 samples, x.0 has 2", e.getMessage());
    }
}
