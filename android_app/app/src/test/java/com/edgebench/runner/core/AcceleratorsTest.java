package com.edgebench.runner.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.util.Set;
import org.junit.Test;

public class AcceleratorsTest {
    @Test
    public void anAcceleratorTheEnvironmentOffersMayRun() {
        assertNull(Accelerators.absent("gpu", "GPU", Set.of("CPU", "GPU")));
    }

    @Test
    public void oneItDoesNotOfferIsRefusedSayingWhatThereIs() {
        assertEquals("npu accelerator is not on this device (LiteRT offers CPU, GPU): nothing is measured on another "
                + "in its name", Accelerators.absent("npu", "NPU", Set.of("GPU", "CPU")));
    }
}
