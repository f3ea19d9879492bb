package com.edgebench.runner.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.Collections;
import java.util.List;
import org.junit.Test;

public class NumericsCheckTest {
    private static final float[][] REFERENCE = {{0.1f, 0.9f}, {0.8f, 0.2f}, {0.3f, 0.7f}, {0.6f, 0.4f}};
    private static final List<Integer> TWO_CLASSES = Collections.singletonList(2);

    static Samples samples(float[][] rows) {
        return new Samples(new int[] {rows.length == 0 ? 0 : rows[0].length}, rows, false);
    }

    private static CellResult.Numerics one(float[][] got, List<Integer> classes, double minAgreement,
            double minCosine) {
        return NumericsCheck.compare(List.of(samples(got)), List.of(samples(REFERENCE)), List.of("Identity"), classes,
                minAgreement, minCosine);
    }

    @Test
    public void outputsCloseToTheReferenceKernelsPassWithTheirFigures() {
        float[][] got = {{0.11f, 0.89f}, {0.8f, 0.2f}, {0.3f, 0.7f}, {0.6f, 0.4f}};
        CellResult.Numerics r = one(got, TWO_CLASSES, 0.97, 0.99);
        assertTrue(r.passed);
        assertEquals(4, r.n);
        assertEquals("0 Identity", r.output);
        assertEquals(1.0, r.agreement, 0);
        assertTrue(r.cosine > 0.99 && r.minCosine <= r.cosine);
        assertEquals(0.01, r.maxAbsDiff, 1e-6);
        assertEquals(0.97, r.minAgreementAllowed, 0);
        assertEquals(0.99, r.minCosineAllowed, 0);
        assertEquals(1, r.outputs.size());
        assertEquals(Integer.valueOf(2), r.outputs.get(0).classes);
    }

    @Test
    public void outputsPastAToleranceFailAndTheMessageSaysByHowMuch() {
        float[][] got = {{0.9f, 0.1f}, {0.8f, 0.2f}, {0.3f, 0.7f}, {0.6f, 0.4f}}; // the first sample flipped
        CellResult.Numerics r = one(got, TWO_CLASSES, 0.97, 0.99);
        assertFalse(r.passed);
        assertEquals(0.75, r.agreement, 0);
        assertEquals("gpu outputs differ from the same variant on the host's reference kernels: top-1 agreement "
                + "75.0% (at least 97.0% expected), cosine " + NumericsCheck.fixed(r.cosine, 4) + " (at least 0.9900), "
                + "max |diff| 0.8 on output 0 Identity, over 4 samples", NumericsCheck.message(r, "gpu"));
    }

    @Test
    public void anOutputThatIsNoClassDistributionIsHeldToTheCosineAlone() {
        float[][] got = {{0.9f, 0.1f}, {0.8f, 0.2f}, {0.3f, 0.7f}, {0.6f, 0.4f}};
        CellResult.Numerics r = one(got, Collections.singletonList(null), 0.97, 0.5);
        assertNull(r.agreement);
        assertTrue(r.passed); // its top-1 flipped, but top-1 means nothing there
        r = one(got, Collections.singletonList(null), 0.97, 0.99);
        assertTrue(NumericsCheck.message(r, "npu"), NumericsCheck.message(r, "npu").startsWith(
                "npu outputs differ from the same variant on the host's reference kernels: cosine "));
    }

    @Test
    public void aNanOutputFailsEvenWhereItsTopOneAgrees() {
        float[][] got = {{0.1f, Float.NaN}, {0.8f, 0.2f}, {0.3f, 0.7f}, {0.6f, 0.4f}};
        CellResult.Numerics r = one(got, TWO_CLASSES, 0.0, 0.0);
        assertFalse(r.passed); // both tolerances are met: the NaN alone fails it
        assertEquals(1.0, r.agreement, 0); // numpy's argmax takes the NaN: index 1, as the reference's
        assertEquals(0.0, r.minCosine, 0);
        assertEquals(Double.POSITIVE_INFINITY, r.maxAbsDiff, 0);
        assertTrue(NumericsCheck.message(r, "gpu").contains("max |diff| inf on output"));
    }

    @Test
    public void twoAllZeroOutputsAreIdenticalAndOneAgainstAnotherIsAsFarAsCanBe() {
        Samples zeros = samples(new float[][] {{0f, 0f}});
        assertEquals(1.0, Scoring.fidelity(0, "", zeros, samples(new float[][] {{0f, 0f}}), null).cosine, 0);
        assertEquals(0.0, Scoring.fidelity(0, "", zeros, samples(new float[][] {{0f, 1f}}), null).cosine, 0);
    }

    @Test
    public void withoutAReferenceOfTheOutputsSizeNothingIsChecked() {
        assertNull(NumericsCheck.compare(List.of(samples(REFERENCE)), List.of(samples(new float[][] {{1f}})),
                List.of("Identity"), TWO_CLASSES, 0.97, 0.99));
    }

    @Test
    public void everyOutputIsCheckedAndTheWorstFailingOneIsReported() {
        float[][] wrong = {{0.9f, 0.1f}, {0.2f, 0.8f}, {0.7f, 0.3f}, {0.4f, 0.6f}};
        CellResult.Numerics r = NumericsCheck.compare(List.of(samples(REFERENCE), samples(wrong)),
                List.of(samples(REFERENCE), samples(REFERENCE)), List.of("scores", "boxes"), List.of(2, 2), 0.97, 0.99);
        assertFalse(r.passed);
        assertEquals("1 boxes", r.output);
        assertEquals(2, r.outputs.size());
        assertTrue(NumericsCheck.message(r, "gpu").contains("on output 1 boxes (the worst of 2 outputs), over 4"));
        CellResult.Numerics fine = NumericsCheck.compare(List.of(samples(REFERENCE), samples(REFERENCE)),
                List.of(samples(REFERENCE), samples(REFERENCE)), List.of("scores"), List.of(2, 2), 0.97, 0.99);
        assertTrue(fine.passed);
        assertEquals("0 scores", fine.output); // equal cosines: the first; an output without a name is its number
    }

    @Test
    public void figuresAreFormattedAsPythonFormatsThem() {
        // format(v, ".4g") and format(v, ".1%") in CPython, for the values on the left
        assertEquals("0", NumericsCheck.general(0.0));
        assertEquals("1", NumericsCheck.general(1.0));
        assertEquals("1.235e+05", NumericsCheck.general(123456.0));
        assertEquals("0.0001234", NumericsCheck.general(0.00012345));
        assertEquals("1.234e-05", NumericsCheck.general(1.2345e-5));
        assertEquals("1e+04", NumericsCheck.general(9999.5));
        assertEquals("1.798e+308", NumericsCheck.general(Double.MAX_VALUE));
        assertEquals("12.35", NumericsCheck.general(12.34567));
        assertEquals("inf", NumericsCheck.general(Double.POSITIVE_INFINITY));
        assertEquals("100.0%", NumericsCheck.percent(0.9995));
        assertEquals("12.5%", NumericsCheck.percent(0.125));
        assertEquals("0.1235", NumericsCheck.fixed(0.12345, 4));
    }
}
