package com.edgebench.runner.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.util.List;
import org.junit.Test;

public class ScoringTest {
    private static final float[][] OUTPUTS = {{0.1f, 0.9f}, {0.8f, 0.2f}, {0.4f, 0.6f}};

    @Test
    public void top1AgreementAndDifferencesAgainstLabelsAndReference() {
        float[][] reference = {{0.2f, 0.8f}, {0.7f, 0.3f}, {0.7f, 0.3f}};
        CellResult.Accuracy a = Scoring.score(OUTPUTS, new long[] {1, 1, 1}, reference);
        assertEquals(3, a.n);
        assertEquals(2.0 / 3, a.top1, 1e-12);
        assertEquals(List.of(true, false, true), a.correct);
        assertEquals(2.0 / 3, a.fp32Agreement, 1e-12); // the third disagrees with fp32
        assertEquals(List.of(true, true, false), a.agree);
        assertEquals(0.3, a.maxAbsDiff, 1e-6);
        assertEquals((0.1 + 0.1 + 0.1 + 0.1 + 0.3 + 0.3) / 6, a.meanAbsDiff, 1e-6);
    }

    @Test
    public void withoutLabelsOrReferenceThoseFiguresAreNullNotZero() {
        CellResult.Accuracy a = Scoring.score(OUTPUTS, null, null);
        assertNull(a.top1);
        assertNull(a.fp32Agreement);
        assertNull(a.maxAbsDiff);
        assertEquals(List.of(), a.correct);
        assertEquals(List.of(), a.agree);
    }

    @Test
    public void tiesGoToTheFirstIndexAsInNumpy() {
        assertEquals(0, Scoring.argmax(new float[] {0.5f, 0.5f}));
    }
}
