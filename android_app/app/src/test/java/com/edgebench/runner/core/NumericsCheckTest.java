package com.edgebench.runner.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.Test;

public class NumericsCheckTest {
    // Six-class scores: top-1 decisive (ahead by 0.5 or more) in every sample.
    private static final float[][] REFERENCE = {
        {0.1f, 0.9f, 0f, 0f, 0f, 0f}, {0.8f, 0.2f, 0f, 0f, 0f, 0f}, {0.2f, 0.8f, 0f, 0f, 0f, 0f},
        {0.9f, 0.1f, 0f, 0f, 0f, 0f}};
    private static final List<Integer> SIX_CLASSES = Collections.singletonList(6);
    // uint8, scale 1/256, zero point 0: okay_nabu's single score
    private static final Precision QUANTISED = new Precision(true,
            List.of(Precision.Output.of(new Quantization(Quantization.Type.UINT8, 1 / 256f, 0))));

    static Samples samples(float[][] rows) {
        return new Samples(new int[] {rows.length == 0 ? 0 : rows[0].length}, rows, false);
    }

    private static CellResult.Numerics one(float[][] got, List<Integer> classes, double minAgreement,
            double minCosine) {
        return NumericsCheck.compare(List.of(samples(got)), List.of(samples(REFERENCE)), List.of("Identity"), classes,
                minAgreement, minCosine);
    }

    private static CellResult.Numerics quantised(float[][] got, float[][] reference) {
        return NumericsCheck.compare(List.of(samples(got)), List.of(samples(reference)), List.of("p"),
                Collections.singletonList(null), 0.97, 0.99, QUANTISED, new Plan.Measurement(), "");
    }

    private static float[][] copy(float[][] rows) {
        float[][] out = new float[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            out[i] = rows[i].clone();
        }
        return out;
    }

    @Test
    public void outputsCloseToTheReferenceKernelsPassWithTheirFigures() {
        float[][] got = copy(REFERENCE);
        got[0][0] = 0.11f;
        CellResult.Numerics r = one(got, SIX_CLASSES, 0.97, 0.99);
        assertTrue(r.passed);
        assertEquals(4, r.n);
        assertEquals("0 Identity", r.output);
        assertEquals(1.0, r.agreement, 0);
        assertTrue(r.cosine > 0.99 && r.minCosine <= r.cosine);
        assertEquals(0.01, r.maxAbsDiff, 1e-6);
        assertEquals(0.97, r.minAgreementAllowed, 0);
        assertEquals(0.99, r.minCosineAllowed, 0);
        assertEquals(0.05, r.maxErrorAllowed, 0);
        assertEquals("", r.failure);
        assertEquals(1, r.outputs.size());
        assertEquals(Integer.valueOf(6), r.outputs.get(0).classes);
        assertEquals(Integer.valueOf(4), r.outputs.get(0).decisive);
    }

    @Test
    public void outputsPastAToleranceFailAndTheMessageNamesTheClassAndTheFigures() {
        float[][] got = copy(REFERENCE);
        got[0] = new float[] {0.9f, 0.1f, 0f, 0f, 0f, 0f}; // the first sample flipped
        CellResult.Numerics r = one(got, SIX_CLASSES, 0.97, 0.99);
        assertFalse(r.passed);
        assertEquals(NumericsCheck.DRIFT, r.failure);
        assertEquals(0.75, r.agreement, 0);
        assertEquals("gpu outputs differ from the same variant on the host's reference kernels: drift: top-1 "
                + "agreement 75.0% of 4 decisive samples (at least 97.0% expected), cosine " + NumericsCheck.fixed(
                        r.cosine, 4) + " (at least 0.9900), RMS error " + NumericsCheck.percent(r.outputs.get(0).relError)
                + " of the reference's spread (at most 5%), max |diff| 0.8 on output 0 Identity, over 4 samples",
                NumericsCheck.message(r, "gpu"));
    }

    @Test
    public void disagreementsOnNearTiesAreReportedApart() {
        float[][] reference = {{1f, 1.001f, 5f, 5.001f, 0f}, {1f, 1.001f, 5f, 5.001f, 0f}};
        float[][] jittered = {{1.001f, 1f, 5.001f, 5f, 0f}, {1.001f, 1f, 5.001f, 5f, 0f}};
        CellResult.Numerics r = NumericsCheck.compare(List.of(samples(jittered)), List.of(samples(reference)),
                List.of("s"), List.of(5), 0.97, 0.99);
        assertTrue(r.passed);
        assertEquals(2, r.outputs.get(0).nearTies);
        assertEquals(Integer.valueOf(0), r.outputs.get(0).decisive);
        assertNull(r.agreement);
    }

    @Test
    public void anOffsetCosineCannotSeeIsDrift() {
        float[][] reference = new float[8][10];
        float[][] moved = new float[8][10];
        for (int i = 0; i < 8; i++) {
            for (int k = 0; k < 10; k++) {
                reference[i][k] = 100f + 10f * ((i * 10 + k) % 7);
                moved[i][k] = reference[i][k] + 4f; // every landmark 4 px off
            }
        }
        CellResult.Numerics r = NumericsCheck.compare(List.of(samples(moved)), List.of(samples(reference)),
                List.of("landmarks"), Collections.singletonList(null), 0.97, 0.99);
        assertTrue(r.cosine > 0.99);
        assertFalse(r.passed);
        assertEquals(NumericsCheck.DRIFT, r.failure);
        assertEquals(4.0, r.outputs.get(0).rmsDiff, 1e-4);
    }

    @Test
    public void aOneValueOutputGetsNoCosineAndOneStepIsNoError() {
        float[][] reference = new float[32][1];
        float[][] oneStep = copy(reference);
        oneStep[5][0] = 1 / 256f;
        CellResult.Numerics r = quantised(oneStep, reference);
        assertTrue(r.passed);
        assertNull(r.cosine);
        assertNull(r.outputs.get(0).snrDb);
        assertEquals(1.0, r.outputs.get(0).maxSteps, 1e-9);
        assertEquals(1 / 256.0, r.outputs.get(0).step, 0);
    }

    @Test
    public void aWrongOutputNamesItsFailureClass() {
        float[][] reference = new float[16][8];
        for (int i = 0; i < 16; i++) {
            for (int k = 0; k < 8; k++) {
                reference[i][k] = 0.3f + 0.05f * ((i + k) % 8);
            }
        }
        float[][] nan = copy(reference);
        nan[3][2] = Float.NaN;
        float[][] zeros = new float[16][8];
        float[][] saturated = new float[16][8];
        for (float[] row : saturated) {
            Arrays.fill(row, 255 / 256f);
        }
        assertEquals(NumericsCheck.NOT_FINITE, quantised(nan, reference).failure);
        assertEquals(NumericsCheck.ALL_ZEROS, quantised(zeros, reference).failure);
        CellResult.Numerics stuck = quantised(saturated, reference);
        assertEquals(NumericsCheck.SATURATED, stuck.failure);
        assertTrue(NumericsCheck.message(stuck, "gpu").startsWith(
                "gpu outputs differ from the same variant on the host's reference kernels: saturated: "));
    }

    @Test
    public void identicalOutputsNeverFailNanIncluded() {
        float[][] reference = copy(REFERENCE);
        reference[2][3] = Float.NaN;
        assertTrue(NumericsCheck.compare(List.of(samples(copy(reference))), List.of(samples(reference)),
                List.of("Identity"), SIX_CLASSES, 1.0, 1.0).passed);
    }

    @Test
    public void aNanOutputFailsEvenWhereItsTopOneAgrees() {
        float[][] got = copy(REFERENCE);
        got[0][1] = Float.NaN;
        CellResult.Numerics r = one(got, SIX_CLASSES, 0.0, 0.0);
        assertFalse(r.passed); // both tolerances are met: the NaN alone fails it
        assertEquals(NumericsCheck.NOT_FINITE, r.failure);
        assertEquals(1.0, r.agreement, 0); // numpy's argmax takes the NaN: index 1, as the reference's
        assertEquals(0.0, r.minCosine, 0);
        assertEquals(Double.POSITIVE_INFINITY, r.maxAbsDiff, 0);
        assertTrue(NumericsCheck.message(r, "gpu").contains("max |diff| inf on output"));
    }

    @Test
    public void twoAllZeroOutputsAreIdenticalAndOneAgainstAnotherIsAsFarAsCanBe() {
        Samples zeros = samples(new float[][] {{0f, 0f, 0f, 0f, 0f}});
        assertEquals(1.0, Scoring.fidelity(0, "", zeros, samples(new float[][] {{0f, 0f, 0f, 0f, 0f}}), null).cosine,
                0);
        assertEquals(0.0, Scoring.fidelity(0, "", zeros, samples(new float[][] {{0f, 1f, 0f, 0f, 0f}}), null).cosine,
                0);
    }

    @Test
    public void withoutAReferenceOfTheOutputsSizeNothingIsChecked() {
        assertNull(NumericsCheck.compare(List.of(samples(REFERENCE)), List.of(samples(new float[][] {{1f}})),
                List.of("Identity"), SIX_CLASSES, 0.97, 0.99));
    }

    @Test
    public void everyOutputIsCheckedAndTheWorstFailingOneIsReported() {
        float[][] wrong = copy(REFERENCE);
        for (float[] row : wrong) {
            float first = row[0];
            row[0] = row[1];
            row[1] = first;
        }
        CellResult.Numerics r = NumericsCheck.compare(List.of(samples(REFERENCE), samples(wrong)),
                List.of(samples(REFERENCE), samples(REFERENCE)), List.of("scores", "boxes"), List.of(6, 6), 0.97, 0.99);
        assertFalse(r.passed);
        assertEquals("1 boxes", r.output);
        assertEquals(2, r.outputs.size());
        assertTrue(NumericsCheck.message(r, "gpu").contains("on output 1 boxes (the worst of 2 outputs), over 4"));
        CellResult.Numerics fine = NumericsCheck.compare(List.of(samples(REFERENCE), samples(REFERENCE)),
                List.of(samples(REFERENCE), samples(REFERENCE)), List.of("scores"), List.of(6, 6), 0.97, 0.99);
        assertTrue(fine.passed);
        assertEquals("0 scores", fine.output); // equal errors: the first; an output without a name is its number
    }

    @Test
    public void figuresAreFormattedAsPythonFormatsThem() {
        // format(v, ".4g"), format(v, ".3g"), format(v, ".1%") and format(v, ".0%") in CPython
        assertEquals("0", NumericsCheck.general(0.0));
        assertEquals("1", NumericsCheck.general(1.0));
        assertEquals("1.235e+05", NumericsCheck.general(123456.0));
        assertEquals("0.0001234", NumericsCheck.general(0.00012345));
        assertEquals("1.234e-05", NumericsCheck.general(1.2345e-5));
        assertEquals("1e+04", NumericsCheck.general(9999.5));
        assertEquals("1.798e+308", NumericsCheck.general(Double.MAX_VALUE));
        assertEquals("12.35", NumericsCheck.general(12.34567));
        assertEquals("inf", NumericsCheck.general(Double.POSITIVE_INFINITY));
        assertEquals("12.3", NumericsCheck.general(12.34567, 3));
        assertEquals("1e+03", NumericsCheck.general(999.5, 3));
        assertEquals("100.0%", NumericsCheck.percent(0.9995));
        assertEquals("12.5%", NumericsCheck.percent(0.125));
        assertEquals("5%", NumericsCheck.percent(0.05, 0));
        assertEquals("0.1235", NumericsCheck.fixed(0.12345, 4));
    }
}
