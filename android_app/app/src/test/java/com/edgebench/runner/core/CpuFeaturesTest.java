package com.edgebench.runner.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.util.Arrays;
import java.util.Collections;
import org.junit.Test;

/** The same samples as tests/spec/test_board_facts.py: the app and device_runner name features alike. */
public class CpuFeaturesTest {
    @Test
    public void armPhonesNameTheirIntDotProductsInTheSharedVocabulary() {
        String armv9 = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull crc32 atomics fphp asimdhp cpuid"
                + " asimdrdm lrcpc dcpop asimddp sve sve2 i8mm bf16 sme smei8i32\nCPU part\t: 0xd81\n";
        assertEquals(Arrays.asList("dotprod", "i8mm", "bf16", "fp16", "sve", "sve2", "sme"), CpuFeatures.parse(armv9));
        String a76 = "Features\t: fp asimd evtstrm crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\n";
        assertEquals(Arrays.asList("dotprod", "fp16"), CpuFeatures.parse(a76));
        assertEquals(Collections.emptyList(), CpuFeatures.parse("Features\t: fp asimd evtstrm crc32 cpuid\n"));
    }

    @Test
    public void x86FlagsAndBigLittleCoresReadAsOnABoard() {
        String xeon = "flags\t\t: fpu avx2 avx512f avx512bw avx512vl avx512_vnni avx_vnni amx_bf16 amx_tile amx_int8\n"
                + "vmx flags\t: vnmi\n";
        assertEquals(Arrays.asList("avx2", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni", "amx_tile",
                "amx_int8", "amx_bf16"), CpuFeatures.parse(xeon));
        String bigLittle = "Features\t: fp asimd asimddp i8mm\nFeatures\t: fp asimd asimddp\n";
        assertEquals(Collections.singletonList("dotprod"), CpuFeatures.parse(bigLittle));
    }

    @Test
    public void unreadableCpuinfoIsUnknownNotEmpty() {
        assertNull(CpuFeatures.parse(null));
        assertNull(CpuFeatures.parse(""));
    }
}
