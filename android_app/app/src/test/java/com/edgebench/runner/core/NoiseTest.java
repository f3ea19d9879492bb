package com.edgebench.runner.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The noise guard on a machine of files: /proc and /sys as a phone shows them to an app, or hides them. */
public class NoiseTest {
    @Rule public TemporaryFolder tmp = new TemporaryFolder();

    private File root;
    private final FakeDevice device = new FakeDevice();
    private final RunLoopTest.SteppingClock clock = new RunLoopTest.SteppingClock(500_000_000); // 0.5 s a read

    @Before
    public void machine() throws Exception {
        root = tmp.newFolder("root");
        write("proc/self/status", "Name:\tedgebench\nCpus_allowed_list:\t0-1\n");
        write("proc/loadavg", "1.50 0.80 0.40 2/300 1234\n");
        write("sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "1800000\n");
        write("sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "schedutil\n");
        stat(0, 0);
        ownTicks(0);
    }

    private void write(String path, String text) throws Exception {
        File file = new File(root, path);
        file.getParentFile().mkdirs();
        Files.write(file.toPath(), text.getBytes(StandardCharsets.UTF_8));
    }

    /** /proc/stat with ``user`` ticks on cpu0 and cpu1 each (and on cpu2, which this process may not use). */
    private void stat(long cpu0, long cpu1) throws Exception {
        write("proc/stat", "cpu  9 9 9 9 9 9 9 9 0 0\n"
                + "cpu0 " + cpu0 + " 0 0 500 0 0 0 0 0 0\n"
                + "cpu1 " + cpu1 + " 0 0 500 0 0 0 0 0 0\n"
                + "cpu2 777 0 0 500 0 0 0 0 0 0\nintr 1 2 3\n");
    }

    private void ownTicks(long utime) throws Exception {
        write("proc/self/stat", "4242 (com.edgebench runner) R 1 2 3 4 5 6 7 8 9 10 " + utime + " 0 0 0\n");
    }

    private Noise noise() {
        return new Noise(root, device, clock, 0.001);
    }

    @Test
    public void theUsableCpusComeFromTheProcessesCpusetAndOnlyTheyAreRead() throws Exception {
        write("proc/self/status", "Cpus_allowed_list:\t0-1,4\n");
        assertEquals(Arrays.asList(0, 1, 4), noise().usableCpus());
    }

    @Test
    public void busyCoresAreOthersCpuTimeOverTheWindowLessThisProcesses() throws Exception {
        Noise noise = noise();
        List<Integer> cpus = Arrays.asList(0, 1);
        Noise.Snapshot start = noise.snapshot(cpus);
        stat(100, 50); // 1.5 s of CPU on the two cores within a 0.5 s window: 3 cores' worth
        ownTicks(25); // of which this process took 0.25 s
        CellResult.Activity a = noise.activity(start, noise.snapshot(cpus), cpus, false);
        assertEquals(0.5, a.windowS, 0);
        assertEquals(3.0, a.busyCores, 1e-9);
        assertEquals(2.5, a.othersBusyCores, 1e-9);
        assertEquals(1.5, a.loadAvg1m, 0);
        assertEquals(1800.0, a.cpuMhz.get("cpu0"), 0);
        assertFalse(a.cpuMhz.containsKey("cpu1")); // no cpufreq there: absent, not zero
    }

    @Test
    public void whereProcStatIsHiddenBusyCoresAreUnknownAndNeverCountAgainstTheCell() throws Exception {
        Files.delete(new File(root, "proc/stat").toPath()); // Android 8+: apps may not read it
        Files.delete(new File(root, "proc/loadavg").toPath());
        CellResult.Conditions c = noise().start(1).finish();
        assertNull(c.during.busyCores);
        assertNull(c.during.othersBusyCores);
        assertNull(c.before.loadAvg1m);
        assertFalse(c.contended);
        assertEquals("schedutil", c.governor);
        assertEquals(2, c.availableCores);
    }

    @Test
    public void othersKeepingTheCoresTheCellLeavesFreeBusyFlagItWithTheFigures() throws Exception {
        Noise noise = noise();
        Noise.Guard guard = noise.start(1);
        stat(200, 200); // others keep both cores busy while one thread is timed
        CellResult.Conditions c = guard.finish();
        assertTrue(c.contended);
        assertEquals(1, c.reasons.size());
        assertTrue(c.reasons.get(0), c.reasons.get(0).startsWith("other processes kept "));
        assertTrue(c.reasons.get(0), c.reasons.get(0).contains(" of 2 cores busy (the cell's 1 thread leave 1 free; "
                + "during the timed loop " + c.during.othersBusyCores + ")"));
    }

    @Test
    public void moreThreadsThanUsableCoresIsContentionWithItself() {
        CellResult.Conditions c = noise().start(4).finish();
        assertEquals(Arrays.asList("4 threads on 2 usable cores: the cell competes with itself"), c.reasons);
        assertTrue(c.contended);
    }

    @Test
    public void androidsThermalStatusFromLightOnIsThrottling() {
        device.thermalStatus = 2;
        CellResult.Conditions c = noise().start(1).finish();
        assertEquals(Arrays.asList("before: Android thermal status 2 (moderate)",
                "after: Android thermal status 2 (moderate)"), c.reasons);
        assertTrue(c.contended);
        assertEquals(Arrays.asList(), c.during.thermal); // judged in the windows around the loop, as noise.py
        device.thermalStatus = 0;
        assertFalse(noise().start(1).finish().contended);
    }

    @Test
    public void aThermalZonePastItsPassiveTripAndEngagedCpuCoolingAreThrottling() throws Exception {
        write("sys/class/thermal/thermal_zone0/type", "cpu-big");
        write("sys/class/thermal/thermal_zone0/temp", "81000");
        write("sys/class/thermal/thermal_zone0/trip_point_0_type", "passive");
        write("sys/class/thermal/thermal_zone0/trip_point_0_temp", "80000");
        write("sys/class/thermal/cooling_device0/type", "thermal-cpufreq-0");
        write("sys/class/thermal/cooling_device0/cur_state", "3");
        write("sys/class/thermal/cooling_device0/max_state", "10");
        assertEquals(Arrays.asList("cpu-big at 81 °C (passive trip)", "thermal-cpufreq-0 cooling at state 3/10"),
                noise().thermal());
    }
}
