package com.edgebench.runner;

import android.content.Context;
import android.os.Build;
import android.os.Debug;
import android.os.PowerManager;
import com.edgebench.runner.core.CellResult;
import com.edgebench.runner.core.CpuFeatures;
import com.edgebench.runner.core.Probes;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;

/** Memory (/proc/self/status; native heap noted), device facts (Build.*), thermal zones and status (the noise guard's). */
final class AndroidProbes implements Probes {
    private final Context context;

    AndroidProbes(Context context) {
        this.context = context;
    }

    @Override
    public double rssMb() {
        return Probes.procStatusMb("VmRSS");
    }

    @Override
    public double peakRssMb() {
        return Probes.procStatusMb("VmHWM");
    }

    @Override
    public void resetPeak() {
        Probes.clearPeak();
    }

    /** Bytes the native heap holds now: the model's tensors live there, not on the Java heap. */
    static long nativeHeapBytes() {
        return Debug.getNativeHeapAllocatedSize();
    }

    @Override
    public CellResult.DeviceFacts facts(String runtime, String runtimeVersion) {
        CellResult.DeviceFacts f = new CellResult.DeviceFacts();
        f.runtime = runtime;
        f.runtimeVersion = runtimeVersion;
        f.machine = Build.SUPPORTED_ABIS.length > 0 ? Build.SUPPORTED_ABIS[0] : "unknown";
        f.cpuModel = Build.VERSION.SDK_INT >= Build.VERSION_CODES.S
                ? Build.SOC_MANUFACTURER + " " + Build.SOC_MODEL
                : Build.HARDWARE;
        f.cores = Runtime.getRuntime().availableProcessors();
        f.os = "Android " + Build.VERSION.RELEASE + " (API " + Build.VERSION.SDK_INT + ") " + Build.MANUFACTURER
                + " " + Build.MODEL;
        f.kernel = System.getProperty("os.version", "");
        f.governor = read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
        f.ramMb = Probes.procMeminfoMb("MemTotal");
        f.cpuFeatures = CpuFeatures.parse(read("/proc/cpuinfo")); // what decides XNNPACK's int8 kernels
        // The Android emulator's boards: its CPU is the host's, translated or virtualised
        if (Build.HARDWARE != null && (Build.HARDWARE.equals("ranchu") || Build.HARDWARE.equals("goldfish"))) {
            f.emulated = "the Android emulator (" + Build.HARDWARE + "): timings mean nothing, outputs are real";
        }
        return f;
    }

    /** Thermal zones in °C, plus PowerManager's thermal status (0 none … 6 shutdown) where Android has it. */
    @Override
    public Map<String, Double> temperaturesC() {
        Map<String, Double> temps = new LinkedHashMap<>();
        File[] zones = new File("/sys/class/thermal").listFiles((dir, name) -> name.startsWith("thermal_zone"));
        if (zones != null) {
            for (File zone : zones) {
                String type = read(zone + "/type");
                String temp = read(zone + "/temp");
                if (type != null && temp != null && temp.matches("-?\\d+")) {
                    temps.put(type, Integer.parseInt(temp) / 1000.0);
                }
            }
        }
        int status = thermalStatus();
        if (status >= 0) {
            temps.put("android_thermal_status", (double) status);
        }
        return temps;
    }

    /** PowerManager's thermal status (API 29+); -1 on older Android, which has none. */
    @Override
    public int thermalStatus() {
        if (Build.VERSION.SDK_INT < Build.VERSION_CODES.Q) {
            return -1;
        }
        PowerManager power = (PowerManager) context.getSystemService(Context.POWER_SERVICE);
        return power.getCurrentThermalStatus();
    }

    private static String read(String path) {
        try {
            return new String(Files.readAllBytes(new File(path).toPath()), StandardCharsets.UTF_8).trim();
        } catch (IOException | SecurityException e) {
            return null; // many phones hide these from apps: absent, not zero
        }
    }
}
