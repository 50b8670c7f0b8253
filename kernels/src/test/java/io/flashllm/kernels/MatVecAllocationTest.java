package io.flashllm.kernels;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decode products run hundreds of times per token: spreading one over the pool must not
 * allocate, on the calling thread or on the workers (the "no new task objects per matvec").
 */
class MatVecAllocationTest {
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Bytes allocated so far by every live thread (the pool's workers included). */
    private static long allocatedByAll(long[] ids) {
        long sum = 0;
        for (long a : MX.getThreadAllocatedBytes(ids)) sum += Math.max(a, 0);
        return sum;
    }

    /**
     * Bytes {@code ids} allocate over {@code runs} runs of {@code work}, in the cleanest window: windows
     * are measured until one allocates under 8 KiB, for up to 10 s (see below why).
     */
    private static long cleanestWindow(Runnable work, int runs, long[] ids) {
        return cleanestWindow(work, runs, ids, 8 * 1024);
    }

    /** As above, windows measured until one allocates under {@code enough} bytes. */
    private static long cleanestWindow(Runnable work, int runs, long[] ids, long enough) {
        long allocated = Long.MAX_VALUE;
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (allocated >= enough && System.nanoTime() < deadline) {
            long before = allocatedByAll(ids);
            for (int i = 0; i < runs; i++) work.run();
            allocated = Math.min(allocated, allocatedByAll(ids) - before);
        }
        return allocated;
    }

    @Test
    void spreadProductsAllocateNothing() {
        Random rnd = new Random(8);
        try (Arena arena = Arena.ofShared(); Parallel pool = Parallel.create(2)) {
            WeightTensor w = TestTensors.random(arena, GgmlType.Q8_0, 512, 256, rnd);
            float[] x = TestTensors.gaussian(256, rnd);
            float[] out = new float[512], gathered = new float[300];
            int[] rows = new int[300];
            for (int i = 0; i < rows.length; i++) rows[i] = (i * 7) % 512;
            Runnable products = () -> {
                MatVec.matvec(pool, w, x, out);
                MatVec.matvecRows(pool, w, rows, rows.length, x, gathered);
            };
            for (int i = 0; i < 3000; i++) products.run(); // warm up: compile, fill the thread-locals
            long[] ids = MX.getAllThreadIds();
            // Steady state is what counts: until C2 has compiled the kernels (after earlier tests in
            // this JVM fed other types through the same call sites, its queue can take a few hundred
            // ms) the vector code runs interpreted or in C1 and allocates, so windows are measured
            // until one is clean, for up to 10 s. A capturing lambda or task object per product, or
            // a kernel compiled with boxed vectors, would allocate in every one of them
            // (>= 2 x 1000 x 32 bytes). Clean windows came after 90-320 ms in five runs.
            long allocated = cleanestWindow(products, 1000, ids);
            assertTrue(allocated < 8 * 1024, "2,000 spread products allocated " + allocated + " bytes");

            // And the reused bodies still compute the right rows.
            float[] single = new float[512];
            MatVec.matvec(null, w, x, single);
            assertArrayEquals(single, out, 0f);
            // (dot4 over gathered rows sums in another order than matvec's dot8: equal within rounding)
            for (int i = 0; i < rows.length; i++) {
                float want = single[rows[i]];
                assertTrue(Math.abs(gathered[i] - want) <= 1e-4f * (1 + Math.abs(want)), "gathered row " + i);
            }
        }
    }

    /**
     * Batches below the panel kernels' (and every batch at 128 bits) go through dequantized tiles of
     * four rows: the tile is a per-thread buffer, not an array per range (which, at 128 bits, was
     * 56 MB of a 1.1B model's 11 s of prompts and decode in JFR's allocation samples; here 45 MB per
     * 1,000 products). What is left is the product's range body, one capturing lambda (48 bytes):
     * one per matrix of a prompt, not per row or range.
     */
    @Test
    void tiledBatchProductsAllocateNothing() {
        Random rnd = new Random(10);
        try (Arena arena = Arena.ofShared(); Parallel pool = Parallel.create(2)) {
            int rows = 512, cols = 256, batch = 5;
            WeightTensor w = TestTensors.random(arena, GgmlType.Q4_0, rows, cols, rnd);
            float[] x = TestTensors.gaussian(batch * cols, rnd);
            float[] out = new float[batch * rows];
            Runnable products = () -> MatVec.matmul(pool, w, x, batch, out);
            for (int i = 0; i < 3000; i++) products.run();
            long[] ids = MX.getAllThreadIds();
            long allocated = cleanestWindow(products, 1000, ids, 128 * 1000);
            assertTrue(allocated < 128 * 1000, "1,000 batch products allocated " + allocated + " bytes");
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < rows; r += 37) {
                    float want = MatVec.dot(w, r, x, b * cols);
                    assertEquals(want, out[b * rows + r], 1e-4f * (1 + Math.abs(want)), "batch " + b + " row " + r);
                }
            }
        }
    }

    /**
     * The neuron cache's dense pattern runs per neuron, 131,072 times a token on the 1.1B model: a
     * gate and up pair in one pass, the down row added. Neither may allocate (windows as above).
     */
    @Test
    void neuronPairsAndDownRowsAllocateNothing() {
        Random rnd = new Random(9);
        try (Arena arena = Arena.ofShared()) {
            int neurons = 64, dim = 256;
            WeightTensor w = TestTensors.random(arena, GgmlType.Q8_0, 3 * neurons, dim, rnd); // gate | up | down
            WeightTensor down = new WeightTensor("down", GgmlType.Q8_0, new long[] {dim, neurons},
                    w.data().asSlice(2L * neurons * w.rowBytes(), neurons * w.rowBytes()));
            float[] x = TestTensors.gaussian(dim, rnd);
            float[] out = new float[dim], gu = new float[2];
            long rb = w.rowBytes(), upAt = neurons * rb;
            Runnable neuronsPass = () -> {
                for (int r = 0; r < neurons; r++) {
                    MatVec.dotPair(GgmlType.Q8_0, w.data(), r * rb, upAt + r * rb, dim, x, null, gu, 0);
                    MatVec.axpy(down, r, gu[0] * gu[1] * 1e-3f, out, 0);
                }
            };
            for (int i = 0; i < 3000; i++) neuronsPass.run();
            long[] ids = {Thread.currentThread().threadId()};
            long allocated = cleanestWindow(neuronsPass, 500, ids);
            assertTrue(allocated < 8 * 1024, "32,000 neurons allocated " + allocated + " bytes");
            float[] pair = new float[2];
            MatVec.dotPair(GgmlType.Q8_0, w.data(), 5 * rb, upAt + 5 * rb, dim, x, null, pair, 0);
            float gate = MatVec.dot(w, 5, x, 0), up = MatVec.dot(w, neurons + 5, x, 0);
            assertEquals(gate, pair[0], 1e-4f * (1 + Math.abs(gate)), "the pair's gate is the row's dot");
            assertEquals(up, pair[1], 1e-4f * (1 + Math.abs(up)), "the pair's up is the row's dot");
        }
    }
}
