package com.edgebench.runner.core;

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
}
