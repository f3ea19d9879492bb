package com.edgebench.runner.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
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

    @Test
    public void gpuFp32AsksForTheGpuHeldToFp32AndGpuForItsDefaultPrecision() {
        assertEquals("GPU", Accelerators.request("gpu:fp32").accelerator);
        assertTrue(Accelerators.request("gpu:fp32").fp32);
        assertEquals("GPU", Accelerators.request("gpu").accelerator);
        assertFalse(Accelerators.request("gpu").fp32);
        assertEquals("CPU", Accelerators.request("xnnpack").accelerator); // LiteRT's CPU accelerator is XNNPACK
        assertEquals("NPU", Accelerators.request("npu").accelerator);
        assertNull(Accelerators.request("cpu")); // plain kernels: only through the Interpreter
        assertNull(Accelerators.request("gpu:fp16"));
    }

    /** LiteRT as a list of answers, one per compile, each either null (compiled) or its reason. */
    private static final class Litert implements Accelerators.Compiler {
        final List<Boolean> asked = new ArrayList<>();
        private final List<String> answers;

        Litert(String... answers) {
            this.answers = new ArrayList<>(java.util.Arrays.asList(answers)); // nulls allowed
        }

        @Override
        public String compile(boolean withCpu) {
            asked.add(withCpu);
            return answers.remove(0);
        }
    }

    private static final ModelOps.Nodes PLAIN = new ModelOps.Nodes(5, 0);

    @Test
    public void aGpuThatCompilesTheModelAloneRunsEveryOp() throws Exception {
        Litert litert = new Litert((String) null);
        Accelerators.Placement p = Accelerators.place("gpu", litert, PLAIN);
        assertEquals(List.of(false), litert.asked);
        assertTrue(p.fullyAccelerated);
        assertNull(p.coverage);
        assertEquals("every op runs on the gpu", p.note);
    }

    @Test
    public void aGpuThatRefusesTheWholeModelIsUnavailableNotMeasuredBesideTheCpu() {
        Litert litert = new Litert("LiteRT: 3 ops not supported");
        Engine.DelegateUnavailable e = assertThrows(Engine.DelegateUnavailable.class,
                () -> Accelerators.place("gpu", litert, PLAIN));
        assertEquals(List.of(false), litert.asked); // never compiled with the CPU beside it
        assertEquals("gpu could not take the whole model (LiteRT: 3 ops not supported); with the CPU beside it "
                + "LiteRT's Kotlin API does not say how much would run on the gpu, so nothing is measured in its "
                + "name", e.getMessage());
    }

    @Test
    public void anNpuCellOfAModelWithoutDispatchOpsIsUnavailableBeforeCompiling() {
        Litert litert = new Litert();
        Engine.DelegateUnavailable e = assertThrows(Engine.DelegateUnavailable.class,
                () -> Accelerators.place("npu", litert, PLAIN));
        assertTrue(litert.asked.isEmpty());
        assertTrue(e.getMessage(), e.getMessage().startsWith("npu: the model has no dispatch op"));
    }

    @Test
    public void aModelThatIsOneDispatchOpRunsWhollyOnTheNpu() throws Exception {
        Litert litert = new Litert((String) null);
        Accelerators.Placement p = Accelerators.place("npu", litert, new ModelOps.Nodes(1, 1));
        assertEquals(List.of(true), litert.asked); // LiteRT's Kotlin API adds the CPU anyway
        assertTrue(p.fullyAccelerated);
        assertEquals(1, p.coverage.delegatedNodes);
        assertEquals(1, p.coverage.totalNodes);
    }

    @Test
    public void dispatchOpsBesideOthersArePartialWithTheShare() throws Exception {
        Accelerators.Placement p = Accelerators.place("npu", new Litert((String) null), new ModelOps.Nodes(5, 2));
        assertFalse(p.fullyAccelerated);
        assertEquals(2, p.coverage.delegatedNodes);
        assertEquals(5, p.coverage.totalNodes);
        assertEquals("the npu runs 2 of 5 nodes (its dispatch ops); the CPU runs the rest", p.note);
    }

    @Test
    public void anNpuThatCannotTakeItsDispatchOpsIsUnavailable() {
        Engine.DelegateUnavailable e = assertThrows(Engine.DelegateUnavailable.class,
                () -> Accelerators.place("npu", new Litert("LiteRT: no dispatch library"), new ModelOps.Nodes(1, 1)));
        assertEquals("npu is not available on this device: LiteRT: no dispatch library", e.getMessage());
    }

    @Test
    public void aFileThatIsNoLiteRtModelIsRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelOps.read(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}));
        assertEquals("not a LiteRT model (no TFL3 identifier)", e.getMessage());
    }
}
