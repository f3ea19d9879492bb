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
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
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
        plan.measure.interleave = false; // each cell alone (plans before 1.5); the interleaved units are tested below
        planFile = new File(planDir, "plan.json");
        Files.write(planFile.toPath(), Schema.toJson(plan).getBytes(StandardCharsets.UTF_8));
        results = new File(tmp.getRoot(), "results");
    }

    private Sweep newSweep() throws Exception {
        // A machine whose /proc and /sys the app may not read (an empty root): every figure unknown.
        File machine = new File(tmp.getRoot(), "machine");
        machine.mkdirs();
        return new Sweep(device, device, Clock.SYSTEM, new Noise(machine, device, Clock.SYSTEM, 0.001));
    }

    private List<CellResult> sweep() throws Exception {
        return newSweep().run(planFile, results,
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
        assertTrue(ok.memory.peakRssMb < 200.0); // the process's 200 MB less the runner's own sample buffer
        assertEquals(ok.memory.peakRssMb - 100.0, ok.memory.modelPeakMb, 1e-9); // above the RSS before the load
        // once the input set is unpacked, before any model is loaded; then after each round of blocks (one a
        // cell timed alone as asked), so the runner's copy of a block for its median is no model's peak
        assertEquals(1 + 2, device.peakResets);
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
    public void aResultAnotherPlanLeftUnderTheSameNameIsMeasuredAgain() throws Exception {
        sweep();
        File file = new File(results, "fp32.xnnpack.interpreter.t1.json");
        CellResult theirs = Schema.fromJson(new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8),
                CellResult.class, "r");
        theirs.runId = "run-0"; // a run folder reused: another run's cell under this name
        Files.write(file.toPath(), Schema.toJson(theirs).getBytes(StandardCharsets.UTF_8));
        device.opened.clear();
        List<CellResult> cells = sweep();
        assertEquals(List.of("fp32.xnnpack.interpreter.t1"), device.opened);
        assertEquals("run-1", cells.get(0).runId);
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

    // ---- numbers you can trust: the numerics check, the noise guard, memory a process can vouch for ----

    /** The plan's input set replaced: version 2, two inputs, fp32's reference-kernel outputs as the fake gives them. */
    private void writeTwoInputSet(int outputs) throws Exception {
        TestNpz npz = new TestNpz(new File(planFile.getParentFile(), "inputs.npz"));
        float[][] first = {{1, 2}, {3, 4}, {2, 3}};
        float[][] second = {{1}, {0}, {5}};
        npz.float32("x.0", new int[] {3, 2}, 1, 2, 3, 4, 2, 3).float32("x.1", new int[] {3, 1}, 1, 0, 5);
        npz.int64("y", 4, 7, 1);
        for (int j = 0; j < outputs; j++) {
            float[] flat = new float[30];
            for (int i = 0; i < 3; i++) {
                System.arraycopy(FakeDevice.oneHot(new float[][] {first[i], second[i]}, j), 0, flat, 10 * i, 10);
            }
            npz.float32("ref.fp32." + j, new int[] {3, 10}, flat);
        }
        npz.close();
        device.outputCount = outputs;
    }

    @Test
    public void everyInputIsFedAndEveryOutputHeldToTheSameVariantOnTheReferenceKernels() throws Exception {
        writeTwoInputSet(2);
        CellResult fp32 = sweep().get(0);
        assertEquals(Schema.OK, fp32.status);
        assertEquals(List.of(true, true, false), fp32.accuracy.correct); // both inputs summed: classes 4, 7, 0
        assertTrue(fp32.numerics.passed);
        assertEquals(3, fp32.numerics.n);
        assertEquals(1.0, fp32.numerics.agreement, 0);
        assertEquals(1.0, fp32.numerics.cosine, 1e-12);
        assertEquals(0.97, fp32.numerics.minAgreementAllowed, 0);
    }

    @Test
    public void aDelegateThatCorruptsTheOutputsIsWrongOutputWithTheFiguresAndTheOthersAreNot() throws Exception {
        writeTwoInputSet(1);
        device.corrupting.put("xnnpack", FakeDevice.REVERSE);
        List<CellResult> cells = sweep();
        CellResult fp32 = cells.get(0);
        assertEquals(Schema.WRONG_OUTPUT, fp32.status);
        assertEquals(NumericsCheck.message(fp32.numerics, "xnnpack"), fp32.message);
        assertTrue(fp32.message, fp32.message.startsWith("xnnpack outputs differ from the same variant on the host's "
                + "reference kernels: drift: top-1 agreement 0.0% of 3 decisive samples (at least 97.0% expected)"));
        assertEquals("0 Identity", fp32.numerics.output);
        assertFalse(fp32.numerics.passed);
        assertTrue(fp32.timing.samplesMs.size() >= 5); // measured all the same: the figures stay beside the verdict
        assertEquals(Schema.OK, cells.get(3).status); // int8 has no reference in this set: not checked
        assertEquals(null, cells.get(3).numerics);
    }

    /** The plan of writePlan asking for culprits, its fp32 variant's probe named (and present) when ``probe``. */
    private void askForCulprits(boolean probe) throws Exception {
        String text = new String(Files.readAllBytes(planFile.toPath()), StandardCharsets.UTF_8);
        Plan plan = Schema.fromJson(text, Plan.class, "plan");
        plan.measure.findCulprits = true;
        if (probe) {
            plan.variant("fp32").probe = "probe-fp32.tflite";
            Files.write(new File(planFile.getParentFile(), "probe-fp32.tflite").toPath(), new byte[] {0});
        }
        Files.write(planFile.toPath(), Schema.toJson(plan).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    public void aWrongOutputCellRunsItsProbeUnderItsDelegateAndWritesTheOutputsForTheHost() throws Exception {
        writeTwoInputSet(1);
        askForCulprits(true);
        FakeDevice phone = new FakeDevice(InputSet.read(new File(planFile.getParentFile(), "inputs.npz")));
        // the probe's outputs on the host's reference kernels: the model's own (y), then two ops' (a, b) in order
        float[] y = new float[30];
        for (int i = 0; i < 3; i++) {
            y[11 * i] = 1f;
        }
        float[] a = {1, 2, 3, 4, 5, 6};
        float[] b = {6, 1, 5, 2, 4, 3};
        phone.probeAnswers.put("probe-fp32.tflite", List.of(new Samples(new int[] {1, 10}, rows(y, 3), false),
                new Samples(new int[] {1, 2}, rows(a, 3), false), new Samples(new int[] {1, 2}, rows(b, 3), false)));
        phone.probeCorrupted.put("probe-fp32.tflite", Set.of(0, 2)); // b's op broke: b and y after it
        phone.corrupting.put("xnnpack", FakeDevice.REVERSE);
        File machine = tmp.newFolder("probe-machine");
        List<CellResult> cells = new Sweep(phone, phone, Clock.SYSTEM, new Noise(machine, phone, Clock.SYSTEM, 0.001))
                .run(planFile, results, (id, status, index, total, skipped) -> { });
        CellResult fp32 = cells.get(0);
        assertEquals(Schema.WRONG_OUTPUT, fp32.status);
        File written = new File(results, ".fp32.xnnpack.interpreter.t1.probe.npz");
        assertEquals("exposed_outputs", fp32.culprit.method);
        assertEquals(null, fp32.culprit.found);
        assertEquals(3, fp32.culprit.samples);
        assertEquals("probe outputs in the results folder as " + written.getName(), fp32.culprit.note);
        assertTrue(fp32.message, fp32.message.endsWith("; " + fp32.culprit.line()));
        List<Samples> outputs = InputSet.numbered(written, "out.");
        assertEquals(3, outputs.size());
        assertArrayEquals(new int[] {1, 2}, outputs.get(1).shape);
        assertArrayEquals(new float[] {3, 4}, outputs.get(1).rows[1], 0f); // a: computed right, as given
        assertArrayEquals(new float[] {2, 5}, outputs.get(2).rows[1], 0f); // b: reversed by the broken op
        assertArrayEquals(FakeDevice.REVERSE.apply(rows(y, 3)[2]), outputs.get(0).rows[2], 0f);
        // the cells that are not wrong_output run no probe and write nothing for it
        assertEquals(Schema.OK, cells.get(3).status); // int8: no reference in this set, nothing judged
        assertEquals(null, cells.get(3).culprit);
        assertEquals(List.of(written.getName()), probeFiles());
    }

    @Test
    public void aWrongOutputCellWithoutAProbeBesideThePlanSaysSoAndNamesNoOp() throws Exception {
        writeTwoInputSet(1);
        askForCulprits(false);
        device.corrupting.put("xnnpack", FakeDevice.REVERSE);
        CellResult fp32 = sweep().get(0);
        assertEquals(Schema.WRONG_OUTPUT, fp32.status);
        assertEquals("", fp32.culprit.method);
        assertEquals("no probe model for fp32 beside the plan (the host makes one per variant when --find-culprits "
                + "is given)", fp32.culprit.note);
        assertTrue(fp32.message, fp32.message.endsWith("; culprit: none named (" + fp32.culprit.note + ")"));
        assertEquals(List.of(), probeFiles());
    }

    private List<String> probeFiles() {
        List<String> found = new ArrayList<>();
        for (String name : resultFiles()) {
            if (name.endsWith(".probe.npz")) {
                found.add(name);
            }
        }
        return found;
    }

    /** ``flat`` cut into ``n`` rows of equal width. */
    private static float[][] rows(float[] flat, int n) {
        float[][] out = new float[n][flat.length / n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * out[i].length, out[i], 0, out[i].length);
        }
        return out;
    }

    @Test
    public void aNanOutputIsWrongOutput() throws Exception {
        writeTwoInputSet(1);
        device.corrupting.put("xnnpack", FakeDevice.NAN);
        CellResult fp32 = sweep().get(0);
        assertEquals(Schema.WRONG_OUTPUT, fp32.status);
        assertEquals(Double.POSITIVE_INFINITY, fp32.numerics.maxAbsDiff, 0);
    }

    @Test
    public void withoutAReferenceForTheVariantNothingIsCheckedAndTheCellIsOk() throws Exception {
        CellResult fp32 = sweep().get(0); // the old-layout set of writePlan: x and y only
        assertEquals(Schema.OK, fp32.status);
        assertEquals(null, fp32.numerics);
    }

    @Test
    public void anInputSetThatCannotFeedTheModelStopsTheSweepNamingItAndRecordsNothing() throws Exception {
        device.inputCount = 2; // the set of writePlan has one input
        Schema.SchemaException e = assertThrows(Schema.SchemaException.class, this::sweep);
        assertEquals(new File(planFile.getParentFile(), "inputs.npz") + " does not fit fp32.tflite: the model takes 2 "
                + "inputs, the input set has 1", e.getMessage());
        assertEquals(0, resultFiles().length); // no result, no marker: nothing died, nothing to record as crashed
    }

    @Test
    public void eachTimedCellRecordsItsConditionsAndSaysWhatItCouldNotRead() throws Exception {
        device.thermalStatus = 3;
        List<CellResult> cells = sweep();
        CellResult ok = cells.get(0);
        assertEquals(1, ok.conditions.threads);
        assertTrue(ok.conditions.contended); // severe thermal status: flagged, still stored and ok
        assertEquals(Schema.OK, ok.status);
        assertTrue(ok.conditions.reasons.contains("before: Android thermal status 3 (severe)"));
        assertEquals(null, ok.conditions.during.busyCores); // this machine hides /proc/stat
        assertEquals(Sweep.NO_BUSY_CORES, ok.message);
        assertEquals(null, cells.get(1).conditions); // nnapi never ran: nothing was observed
    }

    @Test
    public void aCellMeasuredAfterAnotherInTheSameProcessSaysWhichMemoryFiguresItLacks() throws Exception {
        List<CellResult> cells = sweep();
        assertEquals(List.of(), cells.get(0).memory.missing); // the first model this process opened
        CellResult later = cells.get(3);
        assertEquals(List.of("load_delta_mb", "peak_rss_mb", "model_peak_mb"), later.memory.missing);
        assertEquals(null, later.memory.loadDeltaMb);
        assertEquals(null, later.memory.peakRssMb);
        assertNotNull(later.memory.rssAfterLoadMb);
    }

    @Test
    public void oneUnitAloneIsMeasuredWhenTheHostStartsAProcessPerUnit() throws Exception {
        List<CellResult> cells = newSweep().run(planFile, results, (id, status, index, total, skipped) -> { },
                "int8.xnnpack.interpreter.t1");
        assertEquals(1, cells.size());
        assertEquals(List.of("int8.xnnpack.interpreter.t1"), device.opened);
        assertEquals(List.of(), cells.get(0).memory.missing); // its own process: every figure is its own
        assertEquals(List.of("int8.xnnpack.interpreter.t1.json"), List.of(resultFiles()));
        Schema.SchemaException e = assertThrows(Schema.SchemaException.class, () -> newSweep().run(planFile, results,
                (id, status, index, total, skipped) -> { }, "int4.xnnpack.interpreter.t1"));
        assertEquals(planFile + ": no unit int4.xnnpack.interpreter.t1 in this plan", e.getMessage());
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

    /** "A4" for four invokes of the baseline in a row, "B8" for eight of the candidate ("F", "I": fp32, int8). */
    private List<String> runLengths(List<String> variants) {
        List<String> runs = new ArrayList<>();
        String last = null;
        int count = 0;
        for (String variant : variants) {
            if (!variant.equals(last) && last != null) {
                runs.add(letter(last) + count);
                count = 0;
            }
            last = variant;
            count++;
        }
        if (last != null) {
            runs.add(letter(last) + count);
        }
        return runs;
    }

    private static String letter(String variant) {
        return variant.startsWith("baseline") ? "A" : variant.startsWith("candidate") ? "B"
                : variant.substring(0, 1).toUpperCase(java.util.Locale.ROOT);
    }

    @Test
    public void aPairedPlanTimesBothModelsInAbbaBlocksAndRecordsTheBlockLengths() throws Exception {
        writePairedPlan();
        List<CellResult> cells = sweep();
        assertEquals(List.of(
                "baseline.fp32.xnnpack.interpreter.t1 ok 1/2",
                "candidate.fp32.xnnpack.interpreter.t1 ok 2/2"), events);
        // each side's first inference and one warm-up; then blocks A B B A A B of ceil(13 / 3) = 5 runs (at least
        // the runs asked, as device_runner's blocks); then each side's three accuracy inputs
        assertEquals(List.of("A2", "B2", "A5", "B10", "A10", "B5", "A3", "B3"), runLengths(device.invoked));
        String group = cells.get(0).schedule.group;
        assertEquals(12, group.length()); // a token the two sides share: their blocks pair
        for (CellResult side : cells) {
            assertEquals(side.variant, List.of(5, 5, 5), side.timing.blockLengths);
            assertEquals(15, side.timing.samplesMs.size()); // the blocks split the samples exactly
            assertEquals(group, side.schedule.group);
            assertEquals(2, side.schedule.groupSize);
            assertEquals(3, side.schedule.rounds);
            assertEquals(StopRule.Reason.FIXED, side.schedule.stop);
            assertEquals(List.of(true, true, false), side.accuracy.correct);
        }
        String written = new String(Files.readAllBytes(
                new File(results, "candidate.fp32.xnnpack.interpreter.t1.json").toPath()), StandardCharsets.UTF_8);
        CellResult read = Schema.fromJson(written, CellResult.class, "r");
        assertEquals(List.of(5, 5, 5), read.timing.blockLengths);
        assertEquals(group, read.schedule.group);
        assertTrue(written, written.contains("\"stop\": \"fixed\"")); // the JSON's words, as protocol.py's StopReason
    }

    /** Rounds 0 .. rounds-1 of the serpentine order, one after the other. */
    private static int[] serpentine(int sides, int rounds) {
        int[] order = new int[sides * rounds];
        for (int round = 0; round < rounds; round++) {
            System.arraycopy(Sweep.serpentine(sides, round), 0, order, round * sides, sides);
        }
        return order;
    }

    @Test
    public void serpentineRoundsGoForwardThenBackSoTwoSidesAreAbba() {
        assertArrayEquals(new int[] {0, 1, 1, 0, 0, 1, 1, 0}, serpentine(2, 4));
        assertArrayEquals(new int[] {0, 1, 1, 0, 0, 1}, serpentine(2, 3));
        assertArrayEquals(new int[] {0, 1, 2, 2, 1, 0, 0, 1, 2}, serpentine(3, 3));
        assertArrayEquals(new int[] {0, 0, 0}, serpentine(1, 3));
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
            assertEquals("", alone.schedule.group); // timed alone: no block to pair
            assertEquals(1, alone.schedule.groupSize);
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
        assertEquals(List.of(5, 5, 5), cells.get(1).timing.blockLengths);
    }

    @Test
    public void pairedSidesLoadedInOneProcessSayWhichMemoryFiguresTheyLackNeverUnequalOnes() throws Exception {
        writePairedPlan();
        for (CellResult side : sweep()) {
            assertEquals(side.variant, List.of("load_delta_mb", "peak_rss_mb", "model_peak_mb"), side.memory.missing);
            assertEquals(null, side.memory.loadDeltaMb);
            assertEquals(null, side.memory.peakRssMb);
        }
    }

    @Test
    public void pairedSidesTakeTheMemoryEachMeasuredInAProcessOfItsOwn() throws Exception {
        writePairedPlan();
        for (String side : List.of("baseline.fp32.xnnpack.interpreter.t1", "candidate.fp32.xnnpack.interpreter.t1")) {
            FakeDevice fresh = new FakeDevice(); // a new process: nothing opened before
            new Sweep(fresh, fresh, Clock.SYSTEM, new Noise(tmp.getRoot(), fresh, Clock.SYSTEM, 0.001))
                    .measureMemory(planFile, results, side);
            assertEquals(List.of(side), fresh.opened);
            assertTrue(new File(results, "." + side + ".memory.json").isFile());
        }
        assertEquals(List.of(".baseline.fp32.xnnpack.interpreter.t1.memory.json",
                ".candidate.fp32.xnnpack.interpreter.t1.memory.json"), List.of(resultFiles())); // hidden: not pulled
        List<CellResult> cells = sweep();
        for (CellResult side : cells) {
            assertEquals(side.variant, List.of(), side.memory.missing);
            assertEquals(1.0, side.memory.loadDeltaMb, 0); // the same accounting for both: one engine each
            // the fake process's peak (200 MB) less the runner's own sample buffer, as a cell of its own has it
            assertTrue(side.memory.peakRssMb < 200.0 && side.memory.peakRssMb > 199.0);
        }
        assertEquals(2, resultFiles().length); // the memory files are gone with the pair written
        device.opened.clear();
        new Sweep(device, device, Clock.SYSTEM, new Noise(tmp.getRoot(), device, Clock.SYSTEM, 0.001))
                .measureMemory(planFile, results, "baseline.fp32.xnnpack.interpreter.t1");
        assertEquals(List.of(), device.opened); // a measured pair needs no memory pass
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

    // ---- interleaved units (plan 1.5+): the variants of one configuration timed together, adaptive stop ----

    /** The plan of writePlan with the variants of each configuration timed together, as `run` writes it. */
    private Plan interleaved(int blocks, int runs) throws Exception {
        String text = new String(Files.readAllBytes(planFile.toPath()), StandardCharsets.UTF_8);
        Plan plan = Schema.fromJson(text, Plan.class, "plan");
        plan.measure.interleave = true;
        plan.measure.blocks = blocks;
        plan.measure.runs = runs;
        save(plan);
        return plan;
    }

    private void save(Plan plan) throws Exception {
        Files.write(planFile.toPath(), Schema.toJson(plan).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    public void theVariantsOfOneConfigurationAreTimedTogetherInSerpentineBlocksSharingAGroup() throws Exception {
        interleaved(4, 8);
        List<CellResult> cells = sweep();
        assertEquals(List.of( // device_runner's units: per delegate, its variants
                "fp32.xnnpack.interpreter.t1 ok 1/6",
                "int8.xnnpack.interpreter.t1 ok 2/6",
                "fp32.nnapi.interpreter.t1 delegate_unavailable 3/6",
                "int8.nnapi.interpreter.t1 delegate_unavailable 4/6",
                "fp32.gpu.interpreter.t1 delegate_failed 5/6",
                "int8.gpu.interpreter.t1 delegate_failed 6/6"), events);
        // each side's first inference and warm-up; blocks of ceil(8 / 4) = 2 runs, F I, I F, F I, I F; then each
        // side's three accuracy inputs
        assertEquals(List.of("F2", "I2", "F2", "I4", "F4", "I4", "F5", "I3"), runLengths(device.invoked));
        CellResult fp32 = cells.get(0);
        CellResult int8 = cells.get(1);
        assertEquals(12, fp32.schedule.group.length());
        for (CellResult side : List.of(fp32, int8)) {
            assertEquals(fp32.schedule.group, side.schedule.group);
            assertEquals(2, side.schedule.groupSize);
            assertEquals(4, side.schedule.rounds);
            assertEquals(StopRule.Reason.FIXED, side.schedule.stop);
            assertEquals(0.0, side.schedule.precision, 0);
            assertEquals(null, side.schedule.halfWidth); // 4 blocks cannot give a 95 % interval of the median
            assertTrue(side.schedule.timedS > 0);
            assertEquals(List.of(2, 2, 2, 2), side.timing.blockLengths);
            // loaded beside the other: the figures another load paid for are said to be missing, never given
            assertEquals(List.of("load_delta_mb", "peak_rss_mb", "model_peak_mb"), side.memory.missing);
        }
        assertEquals(null, cells.get(2).schedule); // never timed: no schedule, as device_runner writes it
    }

    @Test
    public void aUnitIsNamedByAnyOfItsCellsAndTakesEachSidesMemoryMeasuredAlone() throws Exception {
        interleaved(4, 8);
        for (String side : List.of("fp32.xnnpack.interpreter.t1", "int8.xnnpack.interpreter.t1")) {
            FakeDevice fresh = new FakeDevice(); // a process of its own: nothing opened before
            new Sweep(fresh, fresh, Clock.SYSTEM, new Noise(tmp.getRoot(), fresh, Clock.SYSTEM, 0.001))
                    .measureMemory(planFile, results, side);
        }
        List<CellResult> cells = newSweep().run(planFile, results, (id, status, index, total, skipped) -> { },
                "int8.xnnpack.interpreter.t1"); // the host's line for the second cell of the unit
        assertEquals(List.of("fp32.xnnpack.interpreter.t1", "int8.xnnpack.interpreter.t1"), device.opened);
        for (CellResult side : cells) {
            assertEquals(side.variant, List.of(), side.memory.missing);
            assertEquals(1.0, side.memory.loadDeltaMb, 0);
        }
        assertEquals(List.of("fp32.xnnpack.interpreter.t1.json", "int8.xnnpack.interpreter.t1.json"),
                List.of(resultFiles())); // the memory files gone with the unit written
    }

    /** A clock whose every read is ``tick`` ns after the last: each timed run takes exactly one tick. */
    private static Clock ticking(long tick) {
        long[] now = {0};
        return () -> now[0] += tick;
    }

    private Sweep sweepWith(Clock clock) {
        File machine = new File(tmp.getRoot(), "machine");
        machine.mkdirs();
        return new Sweep(device, device, clock, new Noise(machine, device, Clock.SYSTEM, 0.001));
    }

    @Test
    public void anAdaptiveUnitStopsOnceEverySidesIntervalIsWithinThePrecisionAfterTenBlocks() throws Exception {
        Plan plan = interleaved(20, 5);
        plan.measure.precision = 0.05;
        plan.measure.delegates = new ArrayList<>(List.of("xnnpack"));
        save(plan);
        List<CellResult> cells = sweepWith(ticking(500)).run(planFile, results, (id, status, index, total, s) -> { });
        for (CellResult side : cells) {
            assertEquals(StopRule.Reason.PRECISION, side.schedule.stop);
            assertEquals(Intervals.MIN_BLOCKS, side.schedule.rounds); // every run one tick: no spread at all
            assertEquals(0.0, side.schedule.halfWidth, 0);
            assertEquals(0.05, side.schedule.precision, 0);
            assertEquals(Collections.nCopies(10, 1), side.timing.blockLengths); // ceil(5 / 20) runs a block
            assertEquals(cells.get(0).schedule.group, side.schedule.group);
        }
    }

    @Test
    public void anAdaptiveUnitThatNeverGetsPreciseStopsAtMaxSecs() throws Exception {
        Plan plan = interleaved(20, 5);
        plan.measure.precision = 0.001;
        plan.measure.maxS = 1e-4; // 100 us of timed runs a side
        plan.measure.delegates = new ArrayList<>(List.of("xnnpack"));
        save(plan);
        Random random = new Random(3);
        long[] now = {0};
        Clock noisy = () -> now[0] += 100 + random.nextInt(5000);
        for (CellResult side : sweepWith(noisy).run(planFile, results, (id, status, index, total, s) -> { })) {
            assertEquals(StopRule.Reason.BOUND, side.schedule.stop);
            assertTrue(side.schedule.timedS * 1e9 >= 0.5e5); // the two sides' mean reached max_s
            assertEquals(side.schedule.rounds, side.timing.blockLengths.size());
        }
    }

    @Test(timeout = 20_000)
    public void anAdaptiveUnitWhoseBlocksTakeMicrosecondsStopsAtMaxSecsOfTheClock() throws Exception {
        Plan plan = interleaved(10, 10);
        plan.measure.precision = 1e-6; // no timing meets it
        plan.measure.maxS = 0.5;
        plan.measure.delegates = new ArrayList<>(List.of("xnnpack"));
        save(plan);
        device.workNanos = 10_000; // a tiny model: 0.5 s of timed runs a side would take many thousands of rounds
        long started = System.nanoTime();
        for (CellResult side : sweep()) {
            assertEquals(StopRule.Reason.BOUND, side.schedule.stop);
            assertTrue(side.schedule.timedS < plan.measure.maxS); // it was the clock that stopped it
        }
        assertTrue((System.nanoTime() - started) / 1e9 < 2 * plan.measure.maxS + 5); // both sides' share, and slack
    }

    @Test
    public void aGroupWhoseProcessDiedIsTimedCellByCellAndOnlyTheCellThatDiedAloneIsCrashed() throws Exception {
        interleaved(4, 8);
        assertTrue(results.mkdirs());
        String group = "fp32.xnnpack.interpreter.t1\nint8.xnnpack.interpreter.t1";
        Files.write(new File(results, ".fp32.xnnpack.interpreter.t1.running").toPath(), group.getBytes(StandardCharsets.UTF_8));
        Files.write(new File(results, ".int8.xnnpack.interpreter.t1.running").toPath(),
                "int8.xnnpack.interpreter.t1".getBytes(StandardCharsets.UTF_8)); // the next process died timing int8 alone
        List<CellResult> cells = sweep();
        assertEquals(Schema.OK, cells.get(0).status);
        assertEquals("", cells.get(0).schedule.group); // timed alone this time
        assertEquals(Schema.CRASHED, cells.get(1).status);
        assertEquals(Sweep.DIED, cells.get(1).message);
        assertFalse(device.opened.contains("int8.xnnpack.interpreter.t1")); // never retried forever
        assertEquals(6, resultFiles().length); // and no marker left
    }

    @Test
    public void aGroupWhoseTimingThrowsIsTimedAgainCellByCellSoOnlyTheCellAtFaultFails() throws Exception {
        interleaved(4, 8);
        device.throwingFrom.put("int8", 5); // past its first inference and warm-up: inside the blocks
        List<CellResult> cells = sweep();
        assertEquals(Schema.OK, cells.get(0).status);
        assertEquals("", cells.get(0).schedule.group);
        assertEquals(8, cells.get(0).timing.samplesMs.size()); // alone as asked: one block of every run
        assertEquals(Schema.CRASHED, cells.get(1).status);
        assertTrue(cells.get(1).message, cells.get(1).message.contains("int8: the runtime aborted the invoke"));
        assertEquals(6, resultFiles().length);
    }

    @Test
    public void aGroupThatHangsStopsTheSweepAndItsCellsAreTimedOneByOneOnResume() throws Exception {
        Plan plan = interleaved(4, 8);
        plan.measure.cellTimeoutS = 0.3; // a group of two: 0.6 s between them, as device_runner allows
        save(plan);
        device.hangMillis = 200; // each invoke
        Sweep.Stopped stopped = assertThrows(Sweep.Stopped.class, this::sweep);
        assertTrue(stopped.getMessage(), stopped.getMessage().startsWith(
                "fp32.xnnpack.interpreter.t1, int8.xnnpack.interpreter.t1, timed together, hung: no result within 0.6 s"));
        assertEquals(List.of(".fp32.xnnpack.interpreter.t1.running", ".int8.xnnpack.interpreter.t1.running"),
                List.of(resultFiles())); // nothing recorded: which cell hung is unknown
        device.hangMillis = 0;
        List<CellResult> cells = sweep();
        for (CellResult side : cells.subList(0, 2)) {
            assertEquals(Schema.OK, side.status);
            assertEquals("", side.schedule.group); // each alone: a cell that hangs again is the one at fault
        }
        assertEquals(6, resultFiles().length);
    }

    @Test
    public void aPlanWrittenBeforeInterleavingResumesTimingEachCellAlone() throws Exception {
        interleaved(4, 8);
        String text = new String(Files.readAllBytes(planFile.toPath()), StandardCharsets.UTF_8).replace("\"schema_version\": \"1.7\"",
                "\"schema_version\": \"1.4\"");
        Files.write(planFile.toPath(), text.getBytes(StandardCharsets.UTF_8));
        List<CellResult> cells = sweep();
        assertEquals("fp32.nnapi.interpreter.t1 delegate_unavailable 2/6", events.get(1)); // cell by cell
        assertEquals("", cells.get(0).schedule.group);
        assertEquals(1, cells.get(0).schedule.rounds);
    }
}
