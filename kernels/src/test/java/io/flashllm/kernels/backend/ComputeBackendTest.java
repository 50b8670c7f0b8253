package io.flashllm.kernels.backend;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.reference.ScalarReference;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ComputeBackendTest {

    @Test
    void cpuBackendComputesProducts() {
        Random rnd = new Random(11);
        int rows = 9, cols = 96;
        try (Arena arena = Arena.ofShared(); ComputeBackend be = ComputeBackend.create("cpu", 2)) {
            assertTrue(be.name().startsWith("cpu(2 threads"), be.name());
            MemorySegment s = arena.allocate(4L * rows * cols);
            for (int i = 0; i < rows * cols; i++) {
                s.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i, (float) rnd.nextGaussian());
            }
            WeightTensor w = new WeightTensor("w", GgmlType.F32, new long[]{cols, rows}, s);
            float[] x = new float[2 * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            float[] expect = new float[rows];
            ScalarReference.matvec(w, x, expect);
            float[] got = new float[rows];
            be.matvec(w, x, got);
            assertArrayEquals(expect, got, 1e-4f);
            float[] picked = new float[2];
            be.matvecRows(w, new int[]{8, 3}, 2, x, picked);
            assertEquals(expect[8], picked[0], 1e-4f);
            assertEquals(expect[3], picked[1], 1e-4f);
            float[] batch = new float[2 * rows];
            be.matmul(w, x, 2, batch);
            for (int r = 0; r < rows; r++) assertEquals(expect[r], batch[r], 1e-4f);
        }
    }

    @Test
    void unknownBackendIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ComputeBackend.create("cuda", 1));
        assertTrue(e.getMessage().contains("cuda") && e.getMessage().contains("cpu"), e.getMessage());
    }
}
