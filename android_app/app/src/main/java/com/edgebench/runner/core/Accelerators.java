package com.edgebench.runner.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * Whether the accelerator a CompiledModel cell asks for is on the phone. LiteRT turns a GPU- or
 * NPU-only request into that accelerator plus the CPU, so a phone without it would run on the CPU and
 * the cell would report a CPU figure as the accelerator's: asked first, an absent one is
 * delegate_unavailable (issue 17 item 4).
 */
public final class Accelerators {
    private Accelerators() {}

    /**
     * Why the cell's ``delegate`` (LiteRT's ``accelerator``: CPU, GPU, NPU) cannot run here given what
     * LiteRT's environment offers, or null when it can.
     */
    public static String absent(String delegate, String accelerator, Set<String> available) {
        if (available.contains(accelerator)) {
            return null;
        }
        List<String> offered = new ArrayList<>(available);
        Collections.sort(offered);
        return delegate + " accelerator is not on this device (LiteRT offers "
                + (offered.isEmpty() ? "none" : String.join(", ", offered)) + "): nothing is measured on another in its name";
    }
}
