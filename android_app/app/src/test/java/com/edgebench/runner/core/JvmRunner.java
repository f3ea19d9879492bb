package com.edgebench.runner.core;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The core on the JVM, for the Python specs (tests/integration/test_android_schema.py, the fake phone of
 * tests/support/fake_adb.py): the Python side writes a plan, this reads it with the Java schema and writes it
 * back (echo-plan) or sweeps it on the fake device (sweep: each model answers what the host's reference
 * kernels answered, so honest cells pass the numerics check); the other commands run one piece of the
 * core on JSON the Python side also feeds its own code, so the two are checked against each other.
 *
 *   java JvmRunner echo-plan PLAN OUT
 *   java JvmRunner sweep PLAN RESULTS_DIR [--unit CELL_ID | --memory CELL_ID]
 *       environment: FAKE_PHONE_CORRUPT=DELEGATE (its outputs reversed), FAKE_PHONE_THERMAL=STATUS,
 *       FAKE_PHONE_INVOKE_US=MICROSECONDS (each invoke busy that long; default: near-instant),
 *       FAKE_PHONE_MACHINE=DIR (its /proc and /sys: an empty folder is a phone that hides them all),
 *       FAKE_PHONE_PROBE_ANSWERS=DIR (per probe model P of the plan: P.npz, out.&lt;j&gt; the host reference's
 *       outputs of P over the input set; P.corrupt, the output positions FAKE_PHONE_CORRUPT's delegate breaks
 *       there, comma-separated: one op's output and those computed after it; no file: all)
 *   java JvmRunner numerics IN.json       {outputs, reference, names, classes, min_agreement, min_cosine, delegate}
 *   java JvmRunner score IN.json          {outputs, labels, reference, task, names[, labels_output]}
 *       (arrays as {"shape": one sample's, "rows": one flat row per sample, "integer": stored as integers})
 *   java JvmRunner reasons IN.json        {threads, cores, before, during, after}
 *   java JvmRunner noise-constants
 *   java JvmRunner stop-rule IN.json      {precision, min_s, max_s, rounds, floor, alpha, round, elapsed_s, medians}
 *       (StopRule.decide after ``round`` rounds: {stop, half_widths}, as intervals.StopRule's Verdict)
 *   java JvmRunner model-ops MODEL.tflite   {total, dispatch}: the main subgraph's nodes (ModelOps)
 *   java JvmRunner node-keys MODEL.tflite   [key, ...]: each node's key beside its op (ModelOps.nodeKeys)
 *   java JvmRunner precision MODEL.tflite   {integer_arithmetic, outputs: [{step, low, high}], stateful, signature_outputs}
 */
public final class JvmRunner {
    private static final Gson SNAKE = new GsonBuilder()
            .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
            .serializeNulls().serializeSpecialFloatingPointValues().create();

    private JvmRunner() {}

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "echo-plan" -> {
                String text = read(args[1]);
                AtomicFiles.write(new File(args[2]), Schema.toJson(Schema.fromJson(text, Plan.class, args[1])));
            }
            case "sweep" -> sweep(args);
            case "numerics" -> numerics(JsonParser.parseString(read(args[1])).getAsJsonObject());
            case "score" -> {
                JsonObject in = JsonParser.parseString(read(args[1])).getAsJsonObject();
                JsonElement chosen = in.get("labels_output");
                System.out.println(SNAKE.toJson(Scoring.score(list(in.get("outputs")), samples(in.get("labels")),
                        list(in.get("reference")), in.get("task").getAsString(), strings(in.get("names")),
                        chosen == null || chosen.isJsonNull() ? null : chosen.getAsInt())));
            }
            case "reasons" -> {
                JsonObject in = JsonParser.parseString(read(args[1])).getAsJsonObject();
                System.out.println(SNAKE.toJson(Noise.reasons(in.get("threads").getAsInt(), in.get("cores").getAsInt(),
                        activity(in, "before"), activity(in, "during"), activity(in, "after"))));
            }
            case "model-ops" -> {
                ModelOps.Nodes nodes = ModelOps.read(Files.readAllBytes(new File(args[1]).toPath()));
                System.out.println(SNAKE.toJson(Map.of("total", nodes.total, "dispatch", nodes.dispatch)));
            }
            case "node-keys" -> System.out.println(SNAKE.toJson(ModelOps.nodeKeys(
                    Files.readAllBytes(new File(args[1]).toPath()))));
            case "precision" -> {
                byte[] model = Files.readAllBytes(new File(args[1]).toPath());
                Precision found = ModelOps.precision(model);
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("integer_arithmetic", found.integerArithmetic);
                out.put("outputs", found.outputs);
                out.put("stateful", ModelOps.stateful(model));
                out.put("signature_outputs", ModelOps.signatureOutputs(model));
                System.out.println(SNAKE.toJson(out));
            }
            case "stop-rule" -> {
                JsonObject in = JsonParser.parseString(read(args[1])).getAsJsonObject();
                JsonElement floor = in.get("floor");
                StopRule rule = new StopRule(in.get("precision").getAsDouble(), in.get("min_s").getAsDouble(),
                        in.get("max_s").getAsDouble(), in.get("rounds").getAsInt(),
                        floor.isJsonNull() ? null : floor.getAsDouble(), in.get("alpha").getAsDouble());
                List<List<Double>> medians = new ArrayList<>();
                for (JsonElement side : in.getAsJsonArray("medians")) {
                    List<Double> values = new ArrayList<>();
                    for (JsonElement v : side.getAsJsonArray()) {
                        values.add(v.getAsDouble());
                    }
                    medians.add(values);
                }
                StopRule.Verdict verdict = rule.decide(in.get("round").getAsInt(), in.get("elapsed_s").getAsDouble(),
                        medians);
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("stop", verdict.stop);
                out.put("half_widths", verdict.halfWidths);
                System.out.println(SNAKE.toJson(out));
            }
            case "noise-constants" -> {
                Map<String, Object> constants = new LinkedHashMap<>();
                constants.put("window_s", Noise.WINDOW_S);
                constants.put("slack_cores", Noise.SLACK_CORES);
                constants.put("busy_fields", Noise.BUSY_FIELDS);
                constants.put("throttle_now", Noise.THROTTLE_NOW);
                System.out.println(SNAKE.toJson(constants));
            }
            default -> throw new IllegalArgumentException("unknown command " + args[0]);
        }
    }

    private static void sweep(String[] args) throws Exception {
        File plan = new File(args[1]);
        File results = new File(args[2]);
        String text = read(args[1]);
        File inputSet = new File(plan.getAbsoluteFile().getParentFile(),
                Schema.fromJson(text, Plan.class, args[1]).inputSet);
        FakeDevice device = new FakeDevice(InputSet.read(inputSet));
        String corrupt = System.getenv("FAKE_PHONE_CORRUPT");
        if (corrupt != null && !corrupt.isEmpty()) {
            device.corrupting.put(corrupt, FakeDevice.REVERSE);
        }
        String answers = System.getenv("FAKE_PHONE_PROBE_ANSWERS");
        File[] probes = answers == null || answers.isEmpty() ? null : new File(answers).listFiles();
        for (File file : probes == null ? new File[0] : probes) {
            String name = file.getName();
            if (name.endsWith(".npz")) {
                device.probeAnswers.put(name.substring(0, name.length() - 4), InputSet.numbered(file, "out."));
            } else if (name.endsWith(".corrupt")) {
                Set<Integer> positions = new HashSet<>();
                for (String position : read(file.toString()).trim().split(",")) {
                    positions.add(Integer.parseInt(position.trim()));
                }
                device.probeCorrupted.put(name.substring(0, name.length() - 8), positions);
            }
        }
        String work = System.getenv("FAKE_PHONE_INVOKE_US");
        device.workNanos = work == null || work.isEmpty() ? 0 : Long.parseLong(work) * 1000;
        String thermal = System.getenv("FAKE_PHONE_THERMAL");
        device.thermalStatus = thermal == null || thermal.isEmpty() ? 0 : Integer.parseInt(thermal);
        String machine = System.getenv("FAKE_PHONE_MACHINE"); // where its /proc and /sys are; this host's by default
        File root = new File(machine == null || machine.isEmpty() ? "/" : machine);
        Sweep sweep = new Sweep(device, device, Clock.SYSTEM, new Noise(root, device, Clock.SYSTEM, Noise.WINDOW_S));
        String option = args.length > 3 ? args[3] : "";
        if (option.equals("--memory")) {
            sweep.measureMemory(plan, results, args[4]);
            return;
        }
        sweep.run(plan, results, (id, status, index, total, skipped) -> System.out.println(id + " " + status),
                option.equals("--unit") ? args[4] : null);
    }

    private static void numerics(JsonObject in) {
        List<Integer> classes = new ArrayList<>();
        for (JsonElement c : in.getAsJsonArray("classes")) {
            classes.add(c.isJsonNull() ? null : c.getAsInt());
        }
        CellResult.Numerics r = NumericsCheck.compare(list(in.get("outputs")), list(in.get("reference")),
                strings(in.get("names")), classes, in.get("min_agreement").getAsDouble(),
                in.get("min_cosine").getAsDouble());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("numerics", r);
        out.put("message", r == null ? null : NumericsCheck.message(r, in.get("delegate").getAsString()));
        System.out.println(SNAKE.toJson(out));
    }

    /** A list of arrays, each {"shape": one sample's, "rows": a flat row per sample, "integer": bool}; or null. */
    private static List<Samples> list(JsonElement element) {
        if (element == null || element.isJsonNull()) {
            return null;
        }
        List<Samples> out = new ArrayList<>();
        for (JsonElement e : element.getAsJsonArray()) {
            out.add(samples(e));
        }
        return out;
    }

    private static Samples samples(JsonElement element) {
        if (element == null || element.isJsonNull()) {
            return null;
        }
        JsonObject o = element.getAsJsonObject();
        JsonArray shape = o.getAsJsonArray("shape");
        int[] dims = new int[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape.get(i).getAsInt();
        }
        return new Samples(dims, rows(o.getAsJsonArray("rows")), o.get("integer").getAsBoolean());
    }

    private static List<String> strings(JsonElement element) {
        List<String> out = new ArrayList<>();
        for (JsonElement e : element.getAsJsonArray()) {
            out.add(e.getAsString());
        }
        return out;
    }

    private static float[][] rows(JsonArray array) {
        float[][] rows = new float[array.size()][];
        for (int i = 0; i < rows.length; i++) {
            JsonArray row = array.get(i).getAsJsonArray();
            rows[i] = new float[row.size()];
            for (int k = 0; k < rows[i].length; k++) {
                rows[i][k] = row.get(k).getAsFloat();
            }
        }
        return rows;
    }

    private static CellResult.Activity activity(JsonObject in, String name) {
        return SNAKE.fromJson(in.get(name), CellResult.Activity.class);
    }

    private static String read(String path) throws Exception {
        return new String(Files.readAllBytes(new File(path).toPath()), StandardCharsets.UTF_8);
    }
}
