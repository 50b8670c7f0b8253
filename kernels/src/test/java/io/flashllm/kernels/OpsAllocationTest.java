package io.flashllm.kernels;

import io.flashllm.kernels.bench.ThreadAllocation;
import org.junit.jupiter.api.Test;

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
            long allocated = ThreadAllocation.cleanestWindow(fresh, 1_000, 10);
            assertTrue(allocated < 1024, names[k] + ": 1,000 calls allocated " + allocated + " bytes");
        }
    }
}
