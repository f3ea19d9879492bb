package com.edgebench.runner.core;

import java.io.File;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The noise guard (device_runner/noise.py): what the phone was doing around a cell, and whether that
 * spoils its timing. Read from /proc and /sys as an app may: files Android hides (/proc/stat from
 * Android 8 on, often cpufreq and thermal zones) leave their figures null, never guessed. The figure
 * that decides is the CPU time other processes took on the usable CPUs while the cell ran; the
 * thresholds and the rule are noise.py's (tests/integration/test_android_schema.py checks they agree).
 */
public final class Noise {
    public static final double WINDOW_S = 0.1; // before/after windows (noise.WINDOW_S)
    public static final double SLACK_CORES = 0.25; // others' share beyond the free cores (noise.SLACK_CORES)
    static final int[] BUSY_FIELDS = {0, 1, 2, 5, 6, 7}; // user nice system irq softirq steal
    // /proc counts in USER_HZ, which the kernel fixes at 100 on every ABI Android runs (no sysconf from Java).
    static final double CLK_TCK = 100;
    static final String[] THROTTLE_NOW = {"under-voltage", "arm frequency capped", "throttled", "soft temperature limit"};
    static final String[] THERMAL_STATUS = {"none", "light", "moderate", "severe", "critical", "emergency", "shutdown"};

    private final File root;
    private final Probes probes;
    private final Clock clock;
    private final double windowS;

    /** ``root``: where /proc and /sys are ("/" on the phone; a folder of fake files in tests). */
    public Noise(File root, Probes probes, Clock clock, double windowS) {
        this.root = root;
        this.probes = probes;
        this.clock = clock;
        this.windowS = windowS;
    }

    /** The counters at one instant: a window's figures are the differences of two snapshots. */
    static final class Snapshot {
        final double wallS;
        final Double busyS; // null without a readable /proc/stat
        final double ownS;

        Snapshot(double wallS, Double busyS, double ownS) {
            this.wallS = wallS;
            this.busyS = busyS;
            this.ownS = ownS;
        }
    }

    /** Watches one timed stretch: made just before the timed loop (after a short window), finished right after. */
    public final class Guard {
        private final int threads;
        private final List<Integer> cpus;
        private final CellResult.Activity before;
        private final Snapshot start;

        private Guard(int threads) {
            this.threads = threads;
            this.cpus = usableCpus();
            this.before = quietWindow(cpus);
            this.start = snapshot(cpus);
        }

        public CellResult.Conditions finish() {
            CellResult.Activity during = activity(start, snapshot(cpus), cpus, false);
            CellResult.Activity after = quietWindow(cpus);
            CellResult.Conditions c = new CellResult.Conditions();
            c.availableCores = cpus.size();
            c.threads = threads;
            c.governor = read("sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
            c.before = before;
            c.during = during;
            c.after = after;
            c.reasons = reasons(threads, cpus.size(), before, during, after);
            c.contended = !c.reasons.isEmpty();
            return c;
        }
    }

    public Guard start(int threads) {
        return new Guard(threads);
    }

    /** The CPUs this process may run on (Cpus_allowed_list: Android's cpusets), else every processor. */
    List<Integer> usableCpus() {
        List<Integer> cpus = new ArrayList<>();
        String status = read("proc/self/status");
        for (String line : status == null ? new String[0] : status.split("\n")) {
            if (line.startsWith("Cpus_allowed_list:")) {
                for (String range : line.substring(line.indexOf(':') + 1).trim().split(",")) {
                    String[] ends = range.trim().split("-");
                    try {
                        int low = Integer.parseInt(ends[0]);
                        for (int cpu = low; cpu <= Integer.parseInt(ends[ends.length - 1]); cpu++) {
                            cpus.add(cpu);
                        }
                    } catch (NumberFormatException e) {
                        cpus.clear();
                        break;
                    }
                }
            }
        }
        if (cpus.isEmpty()) {
            for (int cpu = 0; cpu < Runtime.getRuntime().availableProcessors(); cpu++) {
                cpus.add(cpu);
            }
        }
        return cpus;
    }

    Snapshot snapshot(List<Integer> cpus) {
        return new Snapshot(clock.nanoTime() / 1e9, busyS(cpus), ownS());
    }

    /** CPU time of everything on ``cpus`` since boot, from /proc/stat; null where apps may not read it. */
    private Double busyS(List<Integer> cpus) {
        String stat = read("proc/stat");
        if (stat == null) {
            return null;
        }
        long ticks = 0;
        int seen = 0;
        for (String line : stat.split("\n")) {
            String[] words = line.trim().split("\\s+");
            if (words[0].startsWith("cpu") && !words[0].equals("cpu") && cpus.contains(number(words[0].substring(3)))) {
                seen++;
                for (int field : BUSY_FIELDS) {
                    if (field + 1 < words.length) {
                        ticks += Long.parseLong(words[field + 1]);
                    }
                }
            }
        }
        return seen == cpus.size() ? ticks / CLK_TCK : null;
    }

    /** This process's CPU time, every thread: utime + stime of /proc/self/stat (as os.times()). */
    private double ownS() {
        String stat = read("proc/self/stat");
        if (stat == null) {
            return 0;
        }
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+"); // comm may hold spaces
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / CLK_TCK;
    }

    CellResult.Activity activity(Snapshot start, Snapshot end, List<Integer> cpus, boolean slowProbes) {
        double window = Math.max(end.wallS - start.wallS, 1e-9);
        CellResult.Activity a = new CellResult.Activity();
        a.windowS = round(window, 4);
        if (start.busyS != null && end.busyS != null) {
            double busy = (end.busyS - start.busyS) / window;
            a.busyCores = round(busy, 3);
            a.othersBusyCores = round(Math.max(0.0, busy - (end.ownS - start.ownS) / window), 3);
        }
        String load = read("proc/loadavg");
        a.loadAvg1m = load == null ? null : Double.valueOf(load.trim().split("\\s+")[0]);
        a.cpuMhz = cpuMhz(cpus);
        a.thermal = slowProbes ? thermal() : new ArrayList<>();
        return a;
    }

    private CellResult.Activity quietWindow(List<Integer> cpus) {
        Snapshot start = snapshot(cpus);
        try {
            Thread.sleep((long) (windowS * 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return activity(start, snapshot(cpus), cpus, true);
    }

    private Map<String, Double> cpuMhz(List<Integer> cpus) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (int cpu : cpus) {
            String raw = read("sys/devices/system/cpu/cpu" + cpu + "/cpufreq/scaling_cur_freq");
            if (raw != null && raw.matches("\\d+")) {
                out.put("cpu" + cpu, Long.parseLong(raw) / 1000.0);
            }
        }
        return out;
    }

    /**
     * Throttling now: Android's thermal status from light on (PowerManager, API 29+), thermal zones at
     * or past a passive trip point, CPU cooling devices engaged (noise.thermal_throttling).
     */
    List<String> thermal() {
        List<String> found = new ArrayList<>();
        int status = probes.thermalStatus();
        if (status > 0) {
            String name = status < THERMAL_STATUS.length ? THERMAL_STATUS[status] : "unknown";
            found.add("Android thermal status " + status + " (" + name + ")");
        }
        for (File zone : sorted(new File(root, "sys/class/thermal"), "thermal_zone")) {
            String temp = read(zone, "temp");
            if (temp == null || !temp.matches("-?\\d+")) {
                continue;
            }
            for (File trip : sorted(zone, "trip_point_")) {
                if (!trip.getName().endsWith("_type") || !"passive".equals(read(trip))) {
                    continue;
                }
                String limit = read(zone, trip.getName().replaceAll("_type$", "_temp"));
                if (limit != null && limit.matches("-?\\d+") && 0 < Long.parseLong(limit)
                        && Long.parseLong(limit) <= Long.parseLong(temp)) {
                    String type = read(zone, "type");
                    found.add((type != null ? type : zone.getName()) + " at "
                            + NumericsCheck.fixed(Long.parseLong(temp) / 1000.0, 0) + " °C (passive trip)");
                    break;
                }
            }
        }
        for (File device : sorted(new File(root, "sys/class/thermal"), "cooling_device")) {
            String kind = read(device, "type");
            String state = read(device, "cur_state");
            kind = kind == null ? "" : kind;
            if ((kind.contains("cpufreq") || kind.equals("Processor")) && state != null && state.matches("\\d+")
                    && Long.parseLong(state) > 0) {
                found.add(kind + " cooling at state " + state + "/" + read(device, "max_state"));
            }
        }
        return found;
    }

    /** Others' busy cores over all windows together, weighted by length (noise.others_over). */
    static Double othersOver(List<CellResult.Activity> windows) {
        double total = 0;
        double weighted = 0;
        for (CellResult.Activity w : windows) {
            if (w.othersBusyCores != null) {
                total += w.windowS;
                weighted += w.othersBusyCores * w.windowS;
            }
        }
        return total > 0 ? weighted / total : null;
    }

    /** Why the timing of a cell run under these conditions cannot be trusted; empty when it can (noise.reasons). */
    public static List<String> reasons(int threads, int cores, CellResult.Activity before, CellResult.Activity during,
            CellResult.Activity after) {
        List<String> found = new ArrayList<>();
        if (threads > cores) {
            found.add(threads + " threads on " + cores + " usable cores: the cell competes with itself");
        }
        int spare = Math.max(0, cores - threads);
        Double others = othersOver(Arrays.asList(before, during, after));
        if (others != null && others > spare + SLACK_CORES) {
            found.add("other processes kept " + NumericsCheck.fixed(others, 2) + " of " + cores + " cores busy (the cell's "
                    + threads + " thread" + (threads != 1 ? "s" : "") + " leave " + spare + " free; during the timed loop "
                    + (during.othersBusyCores != null ? repr(during.othersBusyCores) : "?") + ")");
        }
        String[] labels = {"before", "after"};
        CellResult.Activity[] windows = {before, after};
        for (int k = 0; k < 2; k++) {
            CellResult.Activity window = windows[k];
            long bits = window.throttled != null && !window.throttled.isEmpty()
                    ? Long.parseLong(window.throttled.replaceFirst("^0[xX]", ""), 16) : 0;
            List<String> now = new ArrayList<>();
            for (int bit = 0; bit < THROTTLE_NOW.length; bit++) {
                if ((bits & (1L << bit)) != 0) {
                    now.add(THROTTLE_NOW[bit]);
                }
            }
            if (!now.isEmpty()) {
                found.add(labels[k] + ": vcgencmd get_throttled=" + window.throttled + " (" + String.join(", ", now) + ")");
            }
            for (String item : window.thermal) {
                found.add(labels[k] + ": " + item);
            }
        }
        return found;
    }

    /** Python's round(x, digits): the double's exact value rounded half-even. */
    private static double round(double value, int digits) {
        return new BigDecimal(value).setScale(digits, RoundingMode.HALF_EVEN).doubleValue();
    }

    /** Python's str() of a float, for the figures in a reason. */
    private static String repr(double value) {
        String text = Double.toString(value);
        return text.contains("E") ? new BigDecimal(text).toPlainString() : text;
    }

    private static int number(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static List<File> sorted(File folder, String prefix) {
        File[] found = folder.listFiles((dir, name) -> name.startsWith(prefix));
        List<File> out = new ArrayList<>(found == null ? Arrays.asList() : Arrays.asList(found));
        out.sort(null);
        return out;
    }

    private String read(String path) {
        return read(new File(root, path));
    }

    private static String read(File folder, String name) {
        return read(new File(folder, name));
    }

    /** The file's text, trimmed; null where it is missing or the app may not read it. */
    private static String read(File file) {
        try {
            return new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8).trim();
        } catch (IOException | SecurityException e) {
            return null;
        }
    }
}
