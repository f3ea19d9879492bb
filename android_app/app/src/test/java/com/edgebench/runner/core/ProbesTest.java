package com.edgebench.runner.core;

import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class ProbesTest {
    @Test
    public void residentAndPeakMemoryAreReadFromProcLikeOnAPhone() {
        double rss = Probes.procStatusMb("VmRSS");
        assertTrue(rss > 1 && Probes.procStatusMb("VmHWM") >= rss);
        assertTrue(Probes.procMeminfoMb("MemTotal") > rss);
    }

    @Test
    public void aFieldTheKernelDoesNotHaveIsAbsentNotZero() {
        assertTrue(Double.isNaN(Probes.procStatusMb("NoSuchField")));
        assertNull(Probes.procMeminfoMb("NoSuchField"));
    }

    @Test
    public void thePeakStartsAfreshFromTheCurrentResidentSize() {
        assertTrue("this kernel lets a process clear its own peak", Probes.clearPeak());
        // right after the reset the peak is the resident size, give or take what the JVM touched since
        assertTrue(Probes.procStatusMb("VmHWM") - Probes.procStatusMb("VmRSS") < 16);
    }
}
