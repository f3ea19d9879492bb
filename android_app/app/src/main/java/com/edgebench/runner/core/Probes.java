package com.edgebench.runner.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Map;

/** What the sweep reads off the device besides the model: memory, facts, temperatures, thermal status. */
public interface Probes {
    /** Resident set size of this process now, MB (VmRSS). */
    double rssMb();

    /** Peak resident set size of this process, MB (VmHWM). */
    double peakRssMb();

    /** Start the peak afresh from the current RSS, so a transient before the cell's work is not its peak. */
    void resetPeak();

    CellResult.DeviceFacts facts(String runtime, String runtimeVersion);

    Map<String, Double> temperaturesC();

    /** Android's thermal status now (PowerManager: 0 none, 1 light ... 6 shutdown); -1 where it cannot be read. */
    int thermalStatus();

    /** VmRSS / VmHWM from /proc/self/status, as device_runner/facts.py reads them (Linux and Android). */
    static double procStatusMb(String field) {
        Double kb = kilobytes("/proc/self/status", field);
        return kb == null ? Double.NaN : kb / 1024.0;
    }

    /**
     * VmHWM from the current RSS (Linux 4.0+: "5" into /proc/self/clear_refs), as device_runner/facts.py's
     * reset_peak_rss; false where the kernel or the app's sandbox refuses, and the peak then keeps it.
     */
    static boolean clearPeak() {
        try {
            Files.write(Paths.get("/proc/self/clear_refs"), "5".getBytes(StandardCharsets.US_ASCII));
            return true;
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    /** MemTotal and friends from /proc/meminfo, MB; null where it cannot be read. */
    static Double procMeminfoMb(String field) {
        Double kb = kilobytes("/proc/meminfo", field);
        return kb == null ? null : kb / 1024.0;
    }

    private static Double kilobytes(String file, String field) {
        try {
            for (String line : Files.readAllLines(Paths.get(file), StandardCharsets.UTF_8)) {
                if (line.startsWith(field + ":")) {
                    return Double.parseDouble(line.substring(field.length() + 1).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return null;
        }
        return null;
    }
}
