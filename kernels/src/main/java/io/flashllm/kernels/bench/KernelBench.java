package io.flashllm.kernels.bench;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.JitQuiet;
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
 * [--working-set-mb 512] [--types Q8_0,F32,...] [--list-types] [--batch 1] [--sparse [--gather shuffled|ascending]
 * [--density 0.5]]}; {@code --sparse} adds {@code matvecRows} over a share of the rows drawn at random
 * ({@code --density}, default half) in shuffled or ascending order, and on the calling thread {@code axpy} of the
 * same rows one at a time and {@code axpyRows} of them (eight per kernel call for Q8_0 and Q4_0), in weight GB/s like
 * the dense column; for the down projection's shape pass {@code --rows 8192 --cols 2048}. With {@code --sparse} the
 * last column is the neuron cache computing all of its rows on the same threads, as a dense selection does over
 * bundled gates: per neuron its gate and up rows in one pass ({@code dotPair}) and its down row added into the
 * thread's output, in GB/s of all three parts ({@code --rows} neurons of {@code --cols} each). Run with
 * {@code --add-modules jdk.incubator.vector}. Each type first warms up for
 * {@code -Dflashllm.bench.warmup} seconds of CPU time (default 0.5) and until the JIT has been idle
 * for 0.3 s ({@link JitQuiet}). The last column, weight bytes per second of
 * CPU time of the calling thread, is the kernel's speed independent of other load on the machine
 * when {@code --threads 1}.
 */
public final class KernelBench {
    private KernelBench() {}

    public static void main(String[] args) {
        io.flashllm.kernels.JitFlags.missing().ifPresent(m -> System.out.println("warning: " + m));
        int threads = 2, rows = 2048, cols = 8192, batch = 1;
        boolean rowsOnly = true;
        double seconds = 1.0;
        long workingSetMb = 512;
        List<GgmlType> types = new ArrayList<>(List.of(GgmlType.values()));
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--threads" -> { threads = Integer.parseInt(v); i++; }
                case "--rows" -> { rows = Integer.parseInt(v); i++; }
                case "--cols" -> { cols = Integer.parseInt(v); i++; }
                case "--batch" -> { batch = Integer.parseInt(v); i++; }
                case "--sparse" -> rowsOnly = false;
                case "--gather" -> {
                    if (!"shuffled".equals(v) && !"ascending".equals(v)) {
                        System.err.println("--gather takes shuffled or ascending, got " + v);
                        System.exit(2);
                    }
                    ascending = "ascending".equals(v);
                    i++;
                }
                case "--density" -> {
                    density = v == null ? Double.NaN : Double.parseDouble(v);
                    if (!(density > 0 && density <= 1)) {
                        System.err.println("--density takes a share of the rows in (0, 1], got " + v);
                        System.exit(2);
                    }
                    i++;
                }
                case "--seconds" -> { seconds = Double.parseDouble(v); i++; }
                case "--working-set-mb" -> { workingSetMb = Long.parseLong(v); i++; }
                case "--list-types" -> {
                    // for scripts that run one type per JVM (scripts/kernel-jvm-scan.sh)
                    StringBuilder all = new StringBuilder();
                    for (GgmlType t : GgmlType.values()) all.append(all.isEmpty() ? "" : ",").append(t.name());
                    System.out.println(all);
                    return;
                }
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
        if (!rowsOnly) {
            System.out.printf(Locale.ROOT, "sparse modes: %.0f%% of the rows, %s%n", 100 * density, ascending ? "ascending" : "shuffled");
        }
        DeoptWatch.start(); // before anything is compiled: see its comment
        System.out.printf(Locale.ROOT, "kernel warm-up: %d ms%n", io.flashllm.kernels.KernelWarmup.run(types));
        try (Parallel p = Parallel.create(threads); Arena probeArena = Arena.ofShared()) {
            System.out.printf(Locale.ROOT, "parallel hand-off: %.1f us per forRange with an empty body%n", handoffMicros(p));
            long probeBytes = workingSetMb << 20;
            MemorySegment src = probeArena.allocate(probeBytes, 4096);
            MemorySegment dst = probeArena.allocate(probeBytes / 2, 4096);
            src.fill((byte) 1);
            dst.fill((byte) 2);
            double copy = MemoryProbe.copyGBps(p, src, dst, seconds);
            System.out.printf(Locale.ROOT, "memory: memcpy %.1f GB/s (bytes copied; %.1f GB/s read+write); "
                    + "the read probe runs again right before each type, since the machine's load drifts%n", copy, 2 * copy);
            System.out.printf(Locale.ROOT, "%-5s %10s %10s %12s %10s %10s %14s %9s %14s %14s %16s%n", "type", "MB/matrix", "GB/s",
                    "ms/product", "read GB/s", "vs read", "GB/cpu-s(main)", "GFLOP/s", rowsOnly ? "" : "rows (cpu-s)",
                    rowsOnly ? "" : "axpy (cpu-s)", rowsOnly ? "" : "axpyRows (cpu-s)   neurons");
            for (GgmlType t : types) {
                double read = MemoryProbe.readGBps(p, src, seconds / 2);
                double[] r = measure(p, t, rows, cols, batch, seconds, workingSetMb, Mode.DENSE);
                String extra = "";
                if (!rowsOnly) {
                    double[] g = measure(p, t, rows, cols, 1, seconds, workingSetMb, Mode.ROWS);
                    double[] a = measure(p, t, rows, cols, 1, seconds, workingSetMb, Mode.AXPY);
                    double[] a4 = measure(p, t, rows, cols, 1, seconds, workingSetMb, Mode.AXPY_ROWS);
                    double neurons = measureNeurons(p, t, rows, cols, seconds, workingSetMb);
                    extra = String.format(Locale.ROOT, " %6.1f (%5.1f) %6.1f (%5.1f)   %6.1f (%5.1f) %9.1f",
                            g[1], g[3], a[1], a[3], a4[1], a4[3], neurons);
                }
                System.out.printf(Locale.ROOT, "%-5s %10.1f %10.1f %12.3f %10.1f %10.2f %14.1f %9.1f%s%n",
                        t, r[0] / 1e6, r[1], r[2], read, r[1] / read, r[3], r[4], extra);
            }
        }
    }

    /** Deoptimizations of one kernel method for one reason in a measured window from which KernelBench warns. */
    private static final int DEOPT_LIMIT = 3;
    private static final double WARMUP_SECONDS = Double.parseDouble(System.getProperty("flashllm.bench.warmup", "0.5"));
    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    /** Mean wall time of a forRange whose body does nothing: the fixed cost every parallel kernel pays. */
    static double handoffMicros(Parallel p) {
        int[] sink = new int[1];
        Parallel.RangeBody body = (from, to) -> sink[0] += to - from;
        for (int i = 0; i < 20_000; i++) p.forRange(64, body);
        int n = 50_000;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) p.forRange(64, body);
        return (System.nanoTime() - t0) / 1e3 / n;
    }

    /** Returns {matrix bytes, GB/s of weights, ms per product, GB/s per CPU-second of the calling thread, GFLOP/s}. */
    static double[] measure(Parallel p, GgmlType t, int rows, int cols, int batch, double seconds, long workingSetMb,
                            Mode mode) {
        long bytes = t.bytesFor((long) rows * cols);
        int copies = (int) Math.max(1, Math.min(4096, (workingSetMb << 20) / bytes));
        try (Arena arena = Arena.ofShared()) {
            WeightTensor[] ws = BenchTensors.matrices(arena, t, rows, cols, copies, 42);
            Random rnd = new Random(1);
            float[] x = new float[Math.max(cols * batch, rows)];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            float[] out = new float[Math.max(rows * batch, cols)];
            if (mode != Mode.DENSE) {
                java.util.List<Integer> picked = new ArrayList<>();
                Random pr = new Random(7);
                for (int r = 0; r < rows; r++) if (pr.nextDouble() < density) picked.add(r);
                if (picked.isEmpty()) picked.add(0);
                if (!ascending) java.util.Collections.shuffle(picked, new Random(5));
                gather = picked.stream().mapToInt(Integer::intValue).toArray();
            }
            long stepBytes = mode != Mode.DENSE ? (long) gather.length * (bytes / rows) : bytes;
            // Warm-up counted in CPU time of this thread, so that on a busy machine C2 still gets
            // to finish compiling before the measurement starts, and until the JIT is idle: a
            // recompile inside the window would be measured running interpreted.
            long warmEnd = THREADS.getCurrentThreadCpuTime() + (long) (WARMUP_SECONDS * 1e9);
            JitQuiet jit = new JitQuiet(300, 30_000);
            for (int i = 0; i < 3 * copies || THREADS.getCurrentThreadCpuTime() < warmEnd || !jit.settled(); i++) {
                run(p, ws[i % copies], x, batch, out, mode);
            }
            long n = 0;
            long c0 = THREADS.getCurrentThreadCpuTime();
            long t0, now;
            DeoptWatch watch = new DeoptWatch();
            t0 = System.nanoTime();
            long end = t0 + (long) (seconds * 1e9);
            do {
                run(p, ws[(int) (n % copies)], x, batch, out, mode);
                n++;
                now = System.nanoTime();
            } while (now < end);
            String deopts = watch.report(DEOPT_LIMIT);
            if (deopts != null) System.out.printf(Locale.ROOT, "warning: %s %s: %s%n", t, mode, deopts);
            double secs = (now - t0) / 1e9;
            double cpuSecs = (THREADS.getCurrentThreadCpuTime() - c0) / 1e9;
            double gflops = 2.0 * rows * cols * batch * n / secs / 1e9;
            return new double[]{bytes, stepBytes * n / secs / 1e9, secs * 1e3 / n, stepBytes * n / cpuSecs / 1e9, gflops};
        }
    }

    /**
     * GB/s of the neuron cache's rows computed in full: {@code rows} neurons whose gate, up and down
     * rows ({@code cols} each) are three matrices of one allocation, as in the cache; each thread
     * takes a contiguous share of the neurons into its own output (every neuron computes here, so the
     * shares are equal; {@code BundleFeedForward} interleaves its threads' rows instead, because there
     * the firing ones cluster), and per neuron reads its gate and up rows in one pass, applies SiLU,
     * and adds its down row.
     */
    static double measureNeurons(Parallel p, GgmlType t, int rows, int cols, double seconds, long workingSetMb) {
        long bytes = t.bytesFor((long) rows * cols), rb = t.bytesFor(cols);
        int copies = (int) Math.max(1, Math.min(4096, (workingSetMb << 20) / (3 * bytes)));
        try (Arena arena = Arena.ofShared()) {
            MemorySegment all = arena.allocate(3 * bytes * copies, 4096);
            BenchTensors.fill(all, t, 43);
            WeightTensor[] down = new WeightTensor[copies];
            for (int i = 0; i < copies; i++) {
                down[i] = new WeightTensor("down" + i, t, new long[] {cols, rows}, all.asSlice((3L * i + 2) * bytes, bytes));
            }
            Random rnd = new Random(3);
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) x[i] = (float) rnd.nextGaussian();
            float[] prep = new float[MatVec.prepSize(t, cols)];
            MatVec.prepare(t, x, cols, prep);
            int chunks = p.threads();
            float[][] partial = new float[chunks][cols + 32];
            float[][] pair = new float[chunks][32];
            int[] copy = new int[1];
            Parallel.RangeBody body = (first, end) -> {
                for (int c = first; c < end; c++) {
                    float[] o = partial[c], gu = pair[c];
                    java.util.Arrays.fill(o, 0f);
                    int i = copy[0];
                    long gate = 3L * i * bytes, up = gate + bytes;
                    WeightTensor d = down[i];
                    for (int r = rows * c / chunks, r1 = rows * (c + 1) / chunks; r < r1; r++) {
                        MatVec.dotPair(t, all, gate + r * rb, up + r * rb, cols, x, prep, gu, 0);
                        MatVec.axpy(d, r, gu[0] / (1f + (float) Math.exp(-gu[0])) * gu[1], o, 0);
                    }
                }
            };
            long warmEnd = THREADS.getCurrentThreadCpuTime() + (long) (WARMUP_SECONDS * 1e9);
            JitQuiet jit = new JitQuiet(300, 30_000);
            for (int i = 0; i < 3 * copies || THREADS.getCurrentThreadCpuTime() < warmEnd || !jit.settled(); i++) {
                copy[0] = i % copies;
                p.forRange(chunks, body);
            }
            long n = 0;
            long t0 = System.nanoTime(), end = t0 + (long) (seconds * 1e9), now;
            do {
                copy[0] = (int) (n % copies);
                p.forRange(chunks, body);
                n++;
                now = System.nanoTime();
            } while (now < end);
            return 3.0 * bytes * n / ((now - t0) / 1e9) / 1e9;
        }
    }

    /** What one timed step does with one matrix. */
    enum Mode {
        /** {@code matvec}, or {@code matmul} when batch > 1. */
        DENSE,
        /** {@code matvecRows} over the drawn rows (shuffled, or ascending as a neuron cache's): the sparse up/gate pattern. */
        ROWS,
        /** {@code axpy} of the same rows as ROWS, one at a time, into one output on the calling thread: the sparse down pattern. */
        AXPY,
        /** {@code axpyRows} of the same rows (eight per kernel call for Q8_0 and Q4_0) on the calling thread. */
        AXPY_ROWS
    }

    private static int[] gather;
    /** {@code --gather ascending}: the sparse modes take their rows in ascending order (as a neuron cache's rows). */
    private static boolean ascending;
    /** {@code --density}: the share of the rows the sparse modes take, each row drawn on its own. */
    private static double density = 0.5;

    private static void run(Parallel p, WeightTensor w, float[] x, int batch, float[] out, Mode mode) {
        switch (mode) {
            case DENSE -> {
                if (batch == 1) MatVec.matvec(p, w, x, out);
                else MatVec.matmul(p, w, x, batch, out);
            }
            case ROWS -> MatVec.matvecRows(p, w, gather, gather.length, x, out);
            case AXPY -> {
                for (int i = 0; i < gather.length; i++) MatVec.axpy(w, gather[i], x[i], out);
            }
            case AXPY_ROWS -> MatVec.axpyRows(w, gather, x, gather.length, out, 0);
        }
    }
}
