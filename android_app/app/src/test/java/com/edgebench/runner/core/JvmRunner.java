package com.edgebench.runner.core;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

/**
 * The core on the JVM, for tests/test_android_schema.py: the Python side writes a plan, this reads
 * it with the Java schema and either writes it back (echo-plan) or sweeps it on the fake device
 * (sweep), so the two runners' JSON is checked against each other.
 *
 *   java JvmRunner echo-plan PLAN OUT
 *   java JvmRunner sweep PLAN RESULTS_DIR
 */
public final class JvmRunner {
    private JvmRunner() {}

    public static void main(String[] args) throws Exception {
        File plan = new File(args[1]);
        if (args[0].equals("echo-plan")) {
            String text = new String(Files.readAllBytes(plan.toPath()), StandardCharsets.UTF_8);
            AtomicFiles.write(new File(args[2]), Schema.toJson(Schema.fromJson(text, Plan.class, args[1])));
        } else {
            FakeDevice device = new FakeDevice();
            new Sweep(device, device, Clock.SYSTEM).run(plan, new File(args[2]),
                    (id, status, index, total, skipped) -> System.out.println(id + " " + status));
        }
    }
}
