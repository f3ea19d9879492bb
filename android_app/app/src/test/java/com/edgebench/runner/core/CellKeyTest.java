package com.edgebench.runner.core;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class CellKeyTest {
    @Test
    public void plainDelegatesNameTheirFileAsPythonDoes() {
        assertEquals("fp32.xnnpack.interpreter.t1", new CellKey("fp32", "xnnpack", 1, "interpreter").id());
        assertEquals("int8.gpu.compiled.t4", new CellKey("int8", "gpu", 4, "compiled").id());
    }

    @Test
    public void aSluggedSpecCarriesTheSameHashAsPython() {
        // Values printed by edgebench_records.CellKey(...).id for the same keys.
        assertEquals("fp32.external_vendor_lib_libx_so_backends_GpuAcc-6e9bb50d.interpreter.t2",
                new CellKey("fp32", "external:/vendor/lib/libx.so;backends=GpuAcc", 2, "interpreter").id());
        assertEquals("int8.nnapi_qti-dsp-df77143b.interpreter.t1",
                new CellKey("int8", "nnapi:qti-dsp", 1, "interpreter").id());
    }
}
