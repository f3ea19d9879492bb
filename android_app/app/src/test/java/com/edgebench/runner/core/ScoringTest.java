package com.edgebench.runner.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.util.Arrays;
import java.util.List;
import org.junit.Test;

/** accuracy.py's scoring in the app: which outputs are class distributions, and what the labels say of them. */
public class ScoringTest {
    private static final float[][] PROBABILITIES = {{0.1f, 0.9f}, {0.8f, 0.2f}, {0.4f, 0.6f}};

    private static Samples samples(int[] shape, float[][] rows) {
        return new Samples(shape, rows, false);
    }

    private static Samples ids(long... values) {
        float[][] rows = new float[values.length][];
        for (int i = 0; i < values.length; i++) {
            rows[i] = new float[] {values[i]};
        }
        return new Samples(new int[0], rows, true);
    }

    private static List<Samples> one(float[][] rows) {
        return List.of(samples(new int[] {1, rows[0].length}, rows));
    }

    @Test
    public void top1AgreementAndDifferencesAgainstLabelsAndReference() {
        float[][] reference = {{0.2f, 0.8f}, {0.7f, 0.3f}, {0.7f, 0.3f}};
        CellResult.Accuracy a = Scoring.score(one(PROBABILITIES), ids(1, 1, 1), one(reference), "auto", List.of("y"), null);
        assertEquals(3, a.n);
        assertEquals("classification", a.task);
        assertEquals(2.0 / 3, a.top1, 1e-12);
        assertEquals(List.of(true, false, true), a.correct);
        assertEquals(2.0 / 3, a.fp32Agreement, 1e-12); // the third disagrees with fp32
        assertEquals(List.of(true, true, false), a.agree);
        assertEquals(0.3, a.maxAbsDiff, 1e-6);
        assertEquals((0.1 + 0.1 + 0.1 + 0.1 + 0.3 + 0.3) / 6, a.meanAbsDiff, 1e-6);
        assertNull(a.top5); // two classes: no top-5
        assertEquals("", a.labelsNote);
        assertEquals("", a.referenceNote);
        assertEquals("y", a.outputs.get(0).name);
    }

    @Test
    public void withoutLabelsOrReferenceThoseFiguresAreNullAndSaidWhy() {
        CellResult.Accuracy a = Scoring.score(one(PROBABILITIES), null, null, "auto", List.of(), null);
        assertNull(a.top1);
        assertNull(a.fp32Agreement);
        assertNull(a.maxAbsDiff);
        assertEquals(List.of(), a.correct);
        assertEquals("no labels", a.labelsNote);
        assertEquals("no host fp32 reference (the host could not run the model, or the input set has none)",
                a.referenceNote);
    }

    @Test
    public void aClassDistributionIsProbabilitiesOrScoresTheLabelsIndexOnOneAxis() {
        Samples logits = samples(new int[] {1, 3}, new float[][] {{2f, -1f, 0.5f}, {0f, 3f, 1f}});
        assertEquals(Arrays.asList((Integer) null), Scoring.classCounts(List.of(logits), null, "auto"));
        assertEquals(List.of(3), Scoring.classCounts(List.of(logits), ids(0, 2), "auto")); // labels index them
        assertEquals(Arrays.asList((Integer) null), Scoring.classCounts(List.of(logits), ids(0, 3), "auto"));
        Samples image = samples(new int[] {2, 2}, new float[][] {{0.25f, 0.25f, 0.25f, 0.25f}});
        assertEquals(Arrays.asList((Integer) null), Scoring.classCounts(List.of(image), null, "auto")); // two axes
        assertEquals(List.of(4), Scoring.classCounts(List.of(image), null, "classification"));
        assertEquals(Arrays.asList((Integer) null), Scoring.classCounts(one(PROBABILITIES), null, "regression"));
    }

    @Test
    public void top5CountsALabelAmongTheFiveHighestScores() {
        float[][] scores = {{0.3f, 0.25f, 0.2f, 0.1f, 0.1f, 0.05f}, {0.05f, 0.1f, 0.1f, 0.2f, 0.25f, 0.3f}};
        CellResult.Accuracy a = Scoring.score(one(scores), ids(4, 0), null, "auto", List.of(), null);
        assertEquals(0.0, a.top1, 0);
        assertEquals(0.5, a.top5, 0); // 4 is fifth in the first sample (ties to the lower index); 0 last in the second
    }

    @Test
    public void regressionTargetsGiveTheMeanAbsoluteErrorOfTheOutputOfTheirSize() {
        Samples boxes = samples(new int[] {1, 2}, new float[][] {{1f, 2f}, {3f, 5f}});
        Samples targets = samples(new int[] {2}, new float[][] {{1.5f, 2f}, {3f, 4f}});
        CellResult.Accuracy a = Scoring.score(List.of(boxes), targets, null, "auto", List.of(), null);
        assertEquals("regression", a.task);
        assertEquals((0.5 + 0 + 0 + 1) / 4, a.mae, 1e-12);
        assertNull(a.top1);
        Samples three = samples(new int[] {3}, new float[][] {{1f, 2f, 3f}, {1f, 2f, 3f}});
        assertEquals("labels of 3 values a sample match no output's size",
                Scoring.score(List.of(boxes), three, null, "auto", List.of(), null).labelsNote);
        assertEquals("task other: labels not scored", Scoring.score(List.of(boxes), targets, null, "other",
                List.of(), null).labelsNote);
    }

    @Test
    public void theLabelsScoreTheOutputTheyAreGivenNotTheFirstClassDistribution() {
        Samples probabilities = samples(new int[] {1, 2}, PROBABILITIES);
        Samples logits = samples(new int[] {1, 3}, new float[][] {{5f, 0f, 0f}, {0f, 5f, 0f}, {0f, 0f, 5f}});
        List<Samples> outputs = List.of(probabilities, logits);
        CellResult.Accuracy scored = Scoring.score(outputs, ids(0, 1, 1), outputs, "auto", List.of("p", "l"), 1);
        assertEquals(2.0 / 3, scored.top1, 1e-12); // the logits' top-1: 0, 1, 2
        assertNull(scored.outputs.get(0).classes); // the other head is not scored against the labels
        assertEquals(Integer.valueOf(3), scored.outputs.get(1).classes);
        assertEquals(1.0 / 3, Scoring.score(outputs, ids(0, 1, 1), outputs, "auto", List.of("p", "l"), null).top1,
                1e-12); // without it, the probabilities: 1, 0, 1
    }

    @Test
    public void regressionLabelsGoToTheOutputGivenEvenWhenAnEarlierOneHasTheirSize() {
        Samples first = samples(new int[] {1, 2}, new float[][] {{9f, 9f}, {9f, 9f}});
        Samples second = samples(new int[] {1, 2}, new float[][] {{1f, 2f}, {3f, 5f}});
        Samples targets = samples(new int[] {2}, new float[][] {{1.5f, 2f}, {3f, 4f}});
        CellResult.Accuracy a = Scoring.score(List.of(first, second), targets, null, "auto", List.of(), 1);
        assertEquals((0.5 + 0 + 0 + 1) / 4, a.mae, 1e-12);
    }

    @Test
    public void theLabelsOutputIsNamedAsTheModelNamesItOrByItsTensorOrIndex() {
        List<String> names = List.of("scores", "boxes");
        List<String> tensors = List.of("StatefulPartitionedCall:1", "StatefulPartitionedCall:0");
        assertEquals(Integer.valueOf(1), Scoring.resolveOutput("boxes", names, tensors));
        assertEquals(Integer.valueOf(0), Scoring.resolveOutput("StatefulPartitionedCall:1", names, tensors));
        assertEquals(Integer.valueOf(1), Scoring.resolveOutput("1", names, tensors));
        assertNull(Scoring.resolveOutput("2", names, tensors));
        assertNull(Scoring.resolveOutput("landmarks", names, tensors));
    }

    @Test
    public void rankingAndArgmaxFollowNumpyOnTiesAndNan() {
        assertEquals(0, Scoring.ranked(new float[] {0.5f, 0.5f}, 1)[0]);
        assertArrayEquals(new int[] {1, 0}, Scoring.ranked(new float[] {Float.NaN, 1f}, 2)); // argsort: NaN last
        assertEquals(0, NumericsCheck.argmax(new float[] {Float.NaN, 1f})); // argmax: the first NaN
    }
}
