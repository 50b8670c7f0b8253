package io.flashllm.kernels.bench;

import io.flashllm.kernels.cpu.Simd;
import io.flashllm.kernels.cpu.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.management.ManagementFactory;
import java.util.Random;

/**
 * exp and tanh over 8192 floats (one FFN's activations on a 1.1B model): {@link VectorMath} against
 * the JDK's {@code lanewise(EXP)} and {@code lanewise(TANH)} in the same run, microseconds and bytes
 * allocated per call, best of ten windows. Which library backs the JDK's ops depends on the
 * platform; {@code -Djdk.incubator.vector.VectorMathLibrary=java} shows the per-lane fallback.
 * {@code java --add-modules jdk.incubator.vector -cp kernels/target/classes
 * io.flashllm.kernels.bench.MathBench [-Dflashllm.vector.bits=128|256|512]}.
 */
public final class MathBench {
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final int N = 8192;

    private MathBench() {}

    private interface Op {
        void run(float[] in, float[] out);
    }

    public static void main(String[] args) {
        float[] in = new float[N], out = new float[N];
        Random rnd = new Random(1);
        for (int i = 0; i < N; i++) in[i] = (float) (3 * rnd.nextGaussian());
        System.out.printf("%s, JDK vector math library property: %s%n", Simd.describe(),
                System.getProperty("jdk.incubator.vector.VectorMathLibrary", "(default)"));
        String[] names = {"exp VectorMath", "exp lanewise(EXP)", "tanh VectorMath", "tanh lanewise(TANH)"};
        Op[] ops = {
                (a, b) -> { for (int i = 0; i < N; i += Simd.L) VectorMath.exp(FloatVector.fromArray(Simd.F, a, i)).intoArray(b, i); },
                (a, b) -> { for (int i = 0; i < N; i += Simd.L) FloatVector.fromArray(Simd.F, a, i).lanewise(VectorOperators.EXP).intoArray(b, i); },
                (a, b) -> { for (int i = 0; i < N; i += Simd.L) VectorMath.tanh(FloatVector.fromArray(Simd.F, a, i)).intoArray(b, i); },
                (a, b) -> { for (int i = 0; i < N; i += Simd.L) FloatVector.fromArray(Simd.F, a, i).lanewise(VectorOperators.TANH).intoArray(b, i); },
        };
        double[] micros = new double[ops.length];
        for (int k = 0; k < ops.length; k++) {
            for (int i = 0; i < 20_000; i++) ops[k].run(in, out);
            double best = Double.MAX_VALUE;
            long bytes = Long.MAX_VALUE;
            long tid = Thread.currentThread().threadId();
            for (int window = 0; window < 10; window++) {
                long b0 = MX.getThreadAllocatedBytes(tid), t0 = System.nanoTime();
                for (int i = 0; i < 2_000; i++) ops[k].run(in, out);
                long t1 = System.nanoTime(), b1 = MX.getThreadAllocatedBytes(tid);
                best = Math.min(best, (t1 - t0) / 1e3 / 2_000);
                bytes = Math.min(bytes, (b1 - b0) / 2_000);
            }
            micros[k] = best;
            System.out.printf("%-22s %8.2f us/call %10d bytes/call%n", names[k], best, bytes);
        }
        System.out.printf("VectorMath / JDK: exp %.2f, tanh %.2f%n", micros[0] / micros[1], micros[2] / micros[3]);
    }
}
