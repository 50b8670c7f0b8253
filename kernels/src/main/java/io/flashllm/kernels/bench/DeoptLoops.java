package io.flashllm.kernels.bench;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.KernelWarmup;
import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.WeightTensor;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Warms the kernels of the given types ({@link KernelWarmup}), runs {@code matvec} over one small
 * matrix of each until compiled, then for a measured window counts the JIT's deoptimizations of
 * kernel code ({@link DeoptWatch}); exits 1 when a kernel method of any type was deoptimized for one
 * reason {@value #LIMIT} or more times in its window. A kernel whose compiled code C2 keeps throwing away and compiling
 * the same way again runs mostly in the lower tiers, two to three orders of magnitude slower, for
 * the life of the process: Q4_0's 256-bit {@code dot4} did so with {@code -XX:UseAVX=2} in a JVM
 * that ran Q4_0 alone (2.4 ms a 128 x 1024 product instead of ~4 us; an uncommon trap of a
 * profile predicate every ~100-200 ms) until session 25. One type per JVM is the case to check:
 * with other types through the same call sites the profile differs and the loop did not show.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -cp server/target/flashllm.jar
 * io.flashllm.kernels.bench.DeoptLoops [seconds] [TYPE ...]} (default 1 s, every type), with
 * {@code -XX:UseAVX=2} for an AVX2 machine's code; {@code DeoptLoopsTest} runs each type alone.
 */
public final class DeoptLoops {
    private static final int LIMIT = 5;
    private static final int ROWS = 128, COLS = 1024;

    private DeoptLoops() {}

    public static void main(String[] args) {
        io.flashllm.kernels.JitFlags.missing().ifPresent(m -> System.out.println("warning: " + m));
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        List<GgmlType> types = new ArrayList<>();
        for (int i = 1; i < args.length; i++) types.add(GgmlType.valueOf(args[i].toUpperCase(Locale.ROOT)));
        if (types.isEmpty()) types.addAll(List.of(GgmlType.values()));
        DeoptWatch.start(); // before anything is compiled: see its comment
        KernelWarmup.run(types);
        boolean clean = true;
        try (Arena arena = Arena.ofShared(); Parallel pool = Parallel.create(2)) {
            Random rnd = new Random(9);
            float[] x = new float[COLS];
            for (int i = 0; i < COLS; i++) x[i] = (float) rnd.nextGaussian();
            float[] out = new float[ROWS];
            for (GgmlType t : types) {
                WeightTensor w = BenchTensors.matrices(arena, t, ROWS, COLS, 1, t.ordinal())[0];
                // Until compiled: 3,000 products, or 2 s when they are slow (a kernel in such a loop).
                long warmEnd = System.nanoTime() + 2_000_000_000L;
                for (int i = 0; i < 3000 && System.nanoTime() < warmEnd; i++) MatVec.matvec(pool, w, x, out);
                long n = 0;
                DeoptWatch watch = new DeoptWatch();
                long t0 = System.nanoTime(), end = t0 + (long) (seconds * 1e9);
                while (System.nanoTime() < end) {
                    MatVec.matvec(pool, w, x, out);
                    n++;
                }
                String deopts = watch.report(LIMIT);
                double micros = (System.nanoTime() - t0) / 1e3 / n;
                clean &= deopts == null;
                System.out.printf(Locale.ROOT, "%-5s %10.1f us a %d x %d product%s%n", t, micros, ROWS, COLS,
                        deopts == null ? "" : "  <- " + deopts);
            }
        }
        if (!clean) System.exit(1);
    }
}
