package io.flashllm.kernels;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The activations and softmax run on every layer of every token: once compiled they allocate
 * nothing (under 1 KiB per 1,000 calls), whatever vector math library the JDK has. The 128-bit execution of this module's tests
 * runs with {@code -Djdk.incubator.vector.VectorMathLibrary=java}, the per-lane fallback an ARM
 * JVM without SLEEF uses, under which {@code lanewise(EXP)} allocated 164 KB per call over 8192
 * values.
 */
class OpsAllocationTest {
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /**
     * Bytes this thread allocates over {@code runs} runs of {@code work} in the cleanest window,
     * windows measured until one allocates under 1 KiB, for up to 10 s: until C2 has compiled the
     * loops they run interpreted or in C1, with boxed vectors. (A kernel that boxes allocates
     * megabytes per 1,000 calls; the margin is for whatever the JVM itself charges to the thread.)
     */
    private static long cleanestWindow(Runnable work, int runs) {
        long tid = Thread.currentThread().threadId();
        long allocated = Long.MAX_VALUE;
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (allocated >= 1024 && System.nanoTime() < deadline) {
            long before = MX.getThreadAllocatedBytes(tid);
            for (int i = 0; i < runs; i++) work.run();
            allocated = Math.min(allocated, MX.getThreadAllocatedBytes(tid) - before);
        }
        return allocated;
    }

    @Test
    void activationsAndSoftmaxAllocateNothing() {
        Random rnd = new Random(46);
        int n = 1003; // a tail past the last full vector too
        float[] source = new float[n], up = new float[n];
        for (int i = 0; i < n; i++) {
            source[i] = (float) (4 * rnd.nextGaussian());
            up[i] = (float) rnd.nextGaussian();
        }
        float[] x = new float[n];
        Runnable[] ops = {
                () -> Ops.silu(x, 0, n),
                () -> Ops.siluMul(x, up, 0, n),
                () -> Ops.swigluOaiMul(x, up, 0, n, 1.702f, 7f),
                () -> Ops.geluMul(x, up, 0, n),
                () -> Ops.softcap(x, 0, n, 30f),
                () -> Ops.softmax(x, 0, n),
                () -> Ops.softmax(x, 0, n, 0.5f),
        };
        String[] names = {"silu", "siluMul", "swigluOaiMul", "geluMul", "softcap", "softmax", "softmax with a sink"};
        for (int k = 0; k < ops.length; k++) {
            Runnable op = ops[k];
            Runnable fresh = () -> {
                System.arraycopy(source, 0, x, 0, n);
                op.run();
            };
            for (int i = 0; i < 5_000; i++) fresh.run();
            long allocated = cleanestWindow(fresh, 1_000);
            assertTrue(allocated < 1024, names[k] + ": 1,000 calls allocated " + allocated + " bytes");
        }
    }
}
