package com.edgebench.runner.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class SweepTest {
    @Rule public TemporaryFolder tmp = new TemporaryFolder();

    private File planFile;
    private File results;
    private final FakeDevice device = new FakeDevice();
    private final List<String> events = new ArrayList<>();

    @Before
    public void writePlan() throws Exception {
        File planDir = tmp.newFolder("plan");
        TestNpz npz = new TestNpz(new File(planDir, "inputs.npz"));
        // three 2-pixel samples; the fake classifies by pixel sum mod 10: 3, 7, 5; the labels get two right
        npz.uint8("x", new int[] {3, 2}, 1, 2, 3, 4, 2, 3).int64("y", 3, 7, 0);
        npz.close();
        Plan plan = new Plan();
        plan.runId = "run-1";
        plan.modelName = "digits";
        plan.inputSet = "inputs.npz";
        for (String name : List.of("fp32", "int8")) {
            Plan.Variant v = new Plan.Variant();
            v.name = name;
            v.file = name + ".tflite";
            plan.variants.add(v);
        }
        plan.measure.delegates = new ArrayList<>(List.of("xnnpack", "nnapi", "gpu"));
        plan.measure.runs = 5;
        plan.measure.minS = 0;
        plan.measure.warmupMinS = 0;
        planFile = new File(planDir, "plan.json");
        Files.write(planFile.toPath(), Schema.toJson(plan).getBytes(StandardCharsets.UTF_8));
        results = new File(tmp.getRoot(), "results");
    }

    private List<CellResult> sweep() throws Exception {
        return new Sweep(device, device, Clock.SYSTEM).run(planFile, results,
                (id, status, index, total, skipped) -> events.add(id + " " + status + " " + index + "/" + total
                        + (skipped ? " skipped" : "")));
    }

    private String[] resultFiles() {
        String[] names = results.list();
        Arrays.sort(names);
        return names;
    }

    @Test
    public void everyCellGetsOneResultFileWithItsStatus() throws Exception {
        List<CellResult> cells = sweep();
        assertEquals(List.of(
                "fp32.xnnpack.interpreter.t1 ok 1/6",
                "fp32.nnapi.interpreter.t1 delegate_unavailable 2/6",
                "fp32.gpu.interpreter.t1 delegate_failed 3/6",
                "int8.xnnpack.interpreter.t1 ok 4/6",
                "int8.nnapi.interpreter.t1 delegate_unavailable 5/6",
                "int8.gpu.interpreter.t1 delegate_failed 6/6"), events);
        assertEquals(6, resultFiles().length); // no temp file or marker left behind
        CellResult ok = cells.get(0);
        assertEquals(5, ok.timing.samplesMs.size());
        assertTrue(ok.timing.p50Ms >= 0 && ok.timing.p50Ms <= ok.timing.p99Ms);
        assertEquals(List.of(true, true, false), ok.accuracy.correct);
        assertEquals(101.0 - 100.0, ok.memory.loadDeltaMb, 0); // the fake's RSS grows by one per engine
        assertEquals("NNAPI needs Android 8.1", cells.get(1).message);
        assertEquals("fake-litert", cells.get(1).device.runtime);
        String written = new String(Files.readAllBytes(new File(results, "fp32.xnnpack.interpreter.t1.json").toPath()),
                StandardCharsets.UTF_8);
        assertEquals("ok", Schema.fromJson(written, CellResult.class, "r").status);
    }

    @Test
    public void aSecondRunSkipsFinishedCellsWithoutOpeningAnyModel() throws Exception {
        sweep();
        device.opened.clear();
        events.clear();
        sweep();
        assertEquals(List.of(), device.opened);
        assertTrue(events.stream().allMatch(e -> e.endsWith("skipped")));
    }

    @Test
    public void aCellDuringWhichTheProcessDiedIsRecordedAsCrashedNotRetried() throws Exception {
        assertTrue(results.mkdirs());
        Files.write(new File(results, ".fp32.xnnpack.interpreter.t1.running").toPath(), new byte[0]);
        List<CellResult> cells = sweep();
        assertEquals(Schema.CRASHED, cells.get(0).status);
        assertFalse(device.opened.contains("fp32.xnnpack.interpreter.t1"));
        assertEquals(Schema.OK, cells.get(3).status);
    }

    @Test
    public void aHungCellIsATimeoutAndStopsTheSweepKeepingWhatWasMeasured() throws Exception {
        String text = new String(Files.readAllBytes(planFile.toPath()), StandardCharsets.UTF_8);
        Files.write(planFile.toPath(), text.replace("\"cell_timeout_s\": 600.0", "\"cell_timeout_s\": 0.3")
                .getBytes(StandardCharsets.UTF_8));
        device.hangMillis = 200; // each invoke: the cell cannot finish within 0.3 s
        Sweep.Stopped stopped = assertThrows(Sweep.Stopped.class, this::sweep);
        assertTrue(stopped.getMessage(), stopped.getMessage().startsWith("fp32.xnnpack.interpreter.t1 hung"));
        String json = new String(Files.readAllBytes(new File(results, "fp32.xnnpack.interpreter.t1.json").toPath()),
                StandardCharsets.UTF_8);
        CellResult timedOut = Schema.fromJson(json, CellResult.class, "r");
        assertEquals(Schema.TIMEOUT, timedOut.status);
        assertNotNull(timedOut.finishedAt);
        device.hangMillis = 0;
        events.clear();
        sweep(); // resumed: the timed-out cell stays recorded, the rest are measured
        assertEquals("fp32.xnnpack.interpreter.t1 timeout 1/6 skipped", events.get(0));
        assertEquals(6, resultFiles().length);
    }

    // ---- paired plans (the gate's): both models in one process, timed in interleaved ABBA blocks ----

    /** The plan the gate writes: baseline.fp32 against candidate.fp32, 13 runs in 3 blocks a side. */
    private void writePairedPlan() throws Exception {
        String text = new String(Files.readAllBytes(planFile.toPath()), StandardCharsets.UTF_8);
        Plan plan = Schema.fromJson(text, Plan.class, "plan");
        plan.variants.clear();
        for (String name : List.of("baseline.fp32", "candidate.fp32")) {
            Plan.Variant v = new Plan.Variant();
            v.name = name;
            v.file = name + ".tflite";
            plan.variants.add(v);
        }
        Plan.Pair pair = new Plan.Pair();
        pair.baseline = "baseline.fp32";
        pair.candidate = "candidate.fp32";
        plan.pairs.add(pair);
        plan.measure.delegates = new ArrayList<>(List.of("xnnpack"));
        plan.measure.runs = 13;
        plan.measure.blocks = 3;
        Files.write(planFile.toPath(), Schema.toJson(plan).getBytes(StandardCharsets.UTF_8));
    }

    /** "A4" for four invokes of the baseline in a row, "B8" for eight of the candidate. */
    private List<String> runLengths(List<String> variants) {
        List<String> runs = new ArrayList<>();
        String last = null;
        int count = 0;
        for (String variant : variants) {
            if (!variant.equals(last) && last != null) {
                runs.add((last.startsWith("baseline") ? "A" : "B") + count);
                count = 0;
            }
            last = variant;
            count++;
        }
        if (last != null) {
            runs.add((last.startsWith("baseline") ? "A" : "B") + count);
        }
        return runs;
    }

    @Test
    public void aPairedPlanTimesBothModelsInAbbaBlocksAndRecordsTheBlockLengths() throws Exception {
        writePairedPlan();
        List<CellResult> cells = sweep();
        assertEquals(List.of(
                "baseline.fp32.xnnpack.interpreter.t1 ok 1/2",
                "candidate.fp32.xnnpack.interpreter.t1 ok 2/2"), events);
        // each side's first inference and one warm-up; then blocks A B B A A B of 13 // 3 = 4 runs;
        // then each side's three accuracy inputs
        assertEquals(List.of("A2", "B2", "A4", "B8", "A8", "B4", "A3", "B3"), runLengths(device.invoked));
        for (CellResult side : cells) {
            assertEquals(side.variant, List.of(4, 4, 4), side.timing.blockLengths);
            assertEquals(12, side.timing.samplesMs.size()); // the blocks split the samples exactly
            assertEquals(List.of(true, true, false), side.accuracy.correct);
        }
        String written = new String(Files.readAllBytes(
                new File(results, "candidate.fp32.xnnpack.interpreter.t1.json").toPath()), StandardCharsets.UTF_8);
        assertEquals(List.of(4, 4, 4), Schema.fromJson(written, CellResult.class, "r").timing.blockLengths);
    }

    @Test
    public void abbaGivesEachSideHalfTheBlocksInMirroredOrder() {
        assertArrayEquals(new int[] {0, 1, 1, 0, 0, 1, 1, 0}, Sweep.abba(4));
        assertArrayEquals(new int[] {0, 1, 1, 0, 0, 1}, Sweep.abba(3));
    }

    @Test
    public void aSideThatCannotRunGetsItsStatusAndTheOtherIsMeasuredAlone() throws Exception {
        writePairedPlan();
        for (String broken : List.of("candidate.fp32", "baseline.fp32")) {
            device.failingVariants.clear();
            device.failingVariants.add(broken);
            device.invoked.clear();
            results = new File(tmp.getRoot(), "results-" + broken);
            List<CellResult> cells = sweep();
            CellResult failed = cells.get(broken.startsWith("baseline") ? 0 : 1);
            CellResult alone = cells.get(broken.startsWith("baseline") ? 1 : 0);
            assertEquals(Schema.DELEGATE_FAILED, failed.status);
            assertEquals(broken + ": the delegate could not prepare the graph", failed.message);
            assertEquals(Schema.OK, alone.status);
            assertEquals(13, alone.timing.samplesMs.size()); // an ordinary cell: every run, no blocks
            assertEquals(List.of(), alone.timing.blockLengths);
            assertFalse(device.invoked.contains(broken));
        }
    }

    @Test
    public void aHalfWrittenPairIsMeasuredAgainWholeAndAFinishedOneIsSkipped() throws Exception {
        writePairedPlan();
        sweep();
        device.opened.clear();
        events.clear();
        sweep();
        assertEquals(List.of(), device.opened);
        assertTrue(events.stream().allMatch(e -> e.endsWith("skipped")));
        Files.delete(new File(results, "candidate.fp32.xnnpack.interpreter.t1.json").toPath());
        events.clear();
        List<CellResult> cells = sweep();
        // both sides must come from one session, or their blocks would pair timings from two
        assertEquals(List.of("baseline.fp32.xnnpack.interpreter.t1", "candidate.fp32.xnnpack.interpreter.t1"),
                device.opened);
        assertEquals(List.of(
                "baseline.fp32.xnnpack.interpreter.t1 ok 1/2",
                "candidate.fp32.xnnpack.interpreter.t1 ok 2/2"), events);
        assertEquals(List.of(4, 4, 4), cells.get(1).timing.blockLengths);
    }

    @Test
    public void aPairDuringWhichTheProcessDiedIsRecordedAsCrashedOnBothSides() throws Exception {
        writePairedPlan();
        assertTrue(results.mkdirs());
        Files.write(new File(results, ".baseline.fp32.xnnpack.interpreter.t1.running").toPath(), new byte[0]);
        List<CellResult> cells = sweep();
        assertEquals(Schema.CRASHED, cells.get(0).status);
        assertEquals(Schema.CRASHED, cells.get(1).status);
        assertEquals(List.of(), device.opened);
        assertEquals(2, resultFiles().length); // and no marker left
    }
}
