package io.flashllm.kernels;

import io.flashllm.kernels.reference.ScalarReference;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.EnumSet;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class KernelWarmupTest {
    @Test
    void warmUpRunsEveryKernelAndLeavesThemCorrect() {
        long ms = KernelWarmup.run(EnumSet.of(GgmlType.Q8_0));
        assertTrue(ms >= 0);
        try (Arena arena = Arena.ofConfined()) {
            WeightTensor w = TestTensors.random(arena, GgmlType.Q8_0, 3, 96, new Random(3));
            float[] x = TestTensors.gaussian(96, new Random(4));
            float[] expect = new float[3], got = new float[3];
            ScalarReference.matvec(w, x, expect);
            MatVec.matvec(null, w, x, got);
            assertArrayEquals(expect, got, 1e-3f);
        }
    }
}
