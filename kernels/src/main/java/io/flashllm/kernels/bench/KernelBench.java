package io.flashllm.kernels.bench;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.cpu.Simd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Quick matvec throughput check: for each weight type, GB/s of weights streamed by
 * {@link MatVec#matvec} over a {@code rows x cols} matrix (default 2048 x 8192), cycling through
 * enough copies that the working set exceeds the last-level cache, next to the streaming-read and
 * copy bandwidth measured in the same run with the same threads.
 *
 * <p>Usage: {@code KernelBench [--threads 2] [--rows 2048] [--cols 8192] [--seconds 1.0]
 * [--working-set-mb 1024] [--types Q8_0,F32,...] [--batch 1]}; run with
 * {@code --add-modules jdk.incubator.vector}.
 */
public final class KernelBench {
    private KernelBench() {}

    public static void main(String[] args) {
        int threads = 2, rows = 2048, cols = 8192, batch = 1;
        double seconds = 1.0;
        long workingSetMb = 1024;
        List<GgmlType> types = new ArrayList<>(List.of(GgmlType.values()));
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--threads" -> { threads = Integer.parseInt(v); i++; }
                case "--rows" -> { rows = Integer.parseInt(v); i++; }
                case "--cols" -> { cols = Integer.parseInt(v); i++; }
                case "--batch" -> { batch = Integer.parseInt(v); i++; }
                case "--seconds" -> { seconds = Double.parseDouble(v); i++; }
                case "--working-set-mb" -> { workingSetMb = Long.parseLong(v); i++; }
                case "--types" -> {
                    types.clear();
                    for (String t : v.split(",")) types.add(GgmlType.valueOf(t.trim().toUpperCase(Locale.ROOT)));
                    i++;
                }
                default -> {
                    System.err.println("unknown option " + a);
                    System.exit(2);
                }
            }
        }
        System.out.printf(Locale.ROOT, "KernelBench: %dx%d, batch %d, %d threads, %s, working set %d MiB%n",
                rows, cols, batch, threads, Simd.describe(), workingSetMb);
        try (Parallel p = Parallel.create(threads)) {
            double read, copy;
            try (Arena arena = Arena.ofShared()) {
                long bytes = workingSetMb << 20;
                MemorySegment src = arena.allocate(bytes, 4096);
                MemorySegment dst = arena.allocate(bytes / 2, 4096);
                src.fill((byte) 1);
                dst.fill((byte) 2);
                read = MemoryProbe.readGBps(p, src, seconds);
                copy = MemoryProbe.copyGBps(p, src, dst, seconds);
            }
            System.out.printf(Locale.ROOT, "memory: read %.1f GB/s, memcpy %.1f GB/s (bytes copied; %.1f GB/s read+write)%n",
                    read, copy, 2 * copy);
            System.out.printf(Locale.ROOT, "%-5s %10s %10s %12s %10s %10s %14s%n", "type", "MB/matrix", "GB/s", "ms/matvec",
                    "vs read", "vs memcpy", "GB/cpu-s(main)");
            for (GgmlType t : types) {
                double[] r = measure(p, t, rows, cols, batch, seconds, workingSetMb);
                System.out.printf(Locale.ROOT, "%-5s %10.1f %10.1f %12.3f %10.2f %10.2f %14.1f%n",
                        t, r[0] / 1e6, r[1], r[2], r[1] / read, r[1] / copy, r[3]);
            }
        }
    }

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    /** Returns {matrix bytes, GB/s of weights, ms per product, GB/s per CPU-second of the calling thread}. */
    static double[] measure(Parallel p, GgmlType t, int rows, int cols, int batch, double seconds, long workingSetMb) {
        long bytes = t.bytesFor((long) rows * cols);
        int copies = (int) Math.max(1, Math.min(4096, (workingSetMb << 20) / bytes));
        try (Arena arena = Arena.ofShared()) {
            WeightTensor[] ws = BenchTensors.matrices(arena, t, rows, cols, copies, 42);
            Random rnd = new Random(1);
            float[] x = new float[cols * batch];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            float[] out = new float[rows * batch];
            for (int i = 0; i < 3 * copies; i++) run(p, ws[i % copies], x, batch, out); // warm-up and JIT
            long n = 0;
            long c0 = THREADS.getCurrentThreadCpuTime();
            long t0 = System.nanoTime(), end = t0 + (long) (seconds * 1e9), now;
            do {
                run(p, ws[(int) (n % copies)], x, batch, out);
                n++;
                now = System.nanoTime();
            } while (now < end);
            double secs = (now - t0) / 1e9;
            double cpuSecs = (THREADS.getCurrentThreadCpuTime() - c0) / 1e9;
            return new double[]{bytes, bytes * n / secs / 1e9, secs * 1e3 / n, bytes * n / cpuSecs / 1e9};
        }
    }

    private static void run(Parallel p, WeightTensor w, float[] x, int batch, float[] out) {
        if (batch == 1) MatVec.matvec(p, w, x, out);
        else MatVec.matmul(p, w, x, batch, out);
    }
}
