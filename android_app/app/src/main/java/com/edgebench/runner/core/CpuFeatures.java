package com.edgebench.runner.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The CPU features that decide LiteRT/XNNPACK's kernels, read from /proc/cpuinfo as device_runner/facts.py's
 * cpu_features reads them: edgebench_records' CpuFeature values, in its order, that every core lists.
 */
public final class CpuFeatures {
    /** cpuinfo's word (x86 flags, ARM Features) to the vocabulary's value, in the vocabulary's order. */
    private static final Map<String, String> WORDS = new LinkedHashMap<>();

    static {
        String[][] pairs = {
            {"avx2", "avx2"}, {"avx512f", "avx512f"}, {"avx512bw", "avx512bw"}, {"avx512vl", "avx512vl"},
            {"avx512_vnni", "avx512_vnni"}, {"avx_vnni", "avx_vnni"}, {"amx_tile", "amx_tile"},
            {"amx_int8", "amx_int8"}, {"amx_bf16", "amx_bf16"}, {"asimddp", "dotprod"}, {"i8mm", "i8mm"},
            {"bf16", "bf16"}, {"asimdhp", "fp16"}, {"sve", "sve"}, {"sve2", "sve2"}, {"sme", "sme"},
        };
        for (String[] pair : pairs) {
            WORDS.put(pair[0], pair[1]);
        }
    }

    private CpuFeatures() {}

    /** The features every core lists; null where cpuinfo lists none at all (unknown, not a CPU without them). */
    public static List<String> parse(String cpuinfo) {
        Set<String> common = null;
        for (String line : cpuinfo == null ? new String[0] : cpuinfo.split("\n")) {
            String[] keyValue = line.split(":", 2);
            String key = keyValue[0].trim();
            if (keyValue.length == 2 && (key.equals("flags") || key.equals("Features"))) {
                Set<String> words = new HashSet<>(Arrays.asList(keyValue[1].trim().split("\\s+")));
                if (common == null) {
                    common = words;
                } else {
                    common.retainAll(words); // a thread may run on any core: only what all of them have counts
                }
            }
        }
        if (common == null) {
            return null;
        }
        List<String> found = new ArrayList<>();
        for (Map.Entry<String, String> word : WORDS.entrySet()) {
            if (common.contains(word.getKey())) {
                found.add(word.getValue());
            }
        }
        return found;
    }
}
