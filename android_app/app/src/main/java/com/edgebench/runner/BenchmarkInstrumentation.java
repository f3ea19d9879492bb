package com.edgebench.runner;

import android.app.Activity;
import android.app.Instrumentation;
import android.os.Bundle;
import com.edgebench.runner.core.Clock;
import com.edgebench.runner.core.Noise;
import com.edgebench.runner.core.Schema;
import com.edgebench.runner.core.Sweep;
import java.io.File;
import java.io.IOException;

/**
 * The on-phone runner, driven by the host:
 *
 *   adb shell am instrument -w -r -e plan /data/local/tmp/edgebench/runs/RUN/plan/plan.json \
 *       -e results /sdcard/Android/data/com.edgebench.runner/files/runs/RUN/results \
 *       [-e unit CELL_ID | -e memory CELL_ID] com.edgebench.runner/.BenchmarkInstrumentation
 *
 * Each `am instrument` starts the app's process afresh: the host runs one per unit (-e unit: any cell of
 * it; a unit is device_runner's, a gate's pair, the variants of one configuration, or one cell), one per
 * side before a unit of several (-e memory: that side's load cost alone, which a side timed beside others
 * cannot measure), and a last one over the whole plan that records what died. Each finished cell is reported as an instrumentation status (cell, status, index, total)
 * while its JSON is already in the results folder, which the host pulls as it appears.
 */
public final class BenchmarkInstrumentation extends Instrumentation {
    private static final int STATUS_CELL = 1;
    private String plan;
    private String results;
    private String unit;
    private String memory;

    @Override
    public void onCreate(Bundle arguments) {
        super.onCreate(arguments);
        plan = arguments.getString("plan");
        results = arguments.getString("results");
        unit = arguments.getString("unit");
        memory = arguments.getString("memory");
        start(); // runs onStart() on the instrumentation thread
    }

    @Override
    public void onStart() {
        Bundle outcome = new Bundle();
        if (plan == null) {
            outcome.putString("error", "missing -e plan <path to plan.json>");
            finish(Activity.RESULT_CANCELED, outcome);
            return;
        }
        File resultsDir = results != null
                ? new File(results)
                : new File(getTargetContext().getExternalFilesDir(null), "results");
        AndroidProbes probes = new AndroidProbes(getTargetContext());
        Noise noise = new Noise(new File("/"), probes, Clock.SYSTEM, Noise.WINDOW_S);
        Sweep sweep = new Sweep(new AndroidEngines(), probes, Clock.SYSTEM, noise);
        try {
            if (memory != null) {
                sweep.measureMemory(new File(plan), resultsDir, memory);
            } else {
                sweep.run(new File(plan), resultsDir, this::report, unit);
            }
            outcome.putString("results", resultsDir.getAbsolutePath());
            finish(Activity.RESULT_OK, outcome);
        } catch (IOException | Schema.SchemaException | Sweep.Stopped e) {
            outcome.putString("error", e.getMessage());
            finish(Activity.RESULT_CANCELED, outcome);
        }
    }

    private void report(String cellId, String status, int index, int total, boolean skipped) {
        Bundle line = new Bundle();
        line.putString("cell", cellId);
        line.putString("status", status);
        line.putInt("index", index);
        line.putInt("total", total);
        line.putBoolean("skipped", skipped);
        line.putLong("native_heap_bytes", AndroidProbes.nativeHeapBytes());
        sendStatus(STATUS_CELL, line);
    }
}
