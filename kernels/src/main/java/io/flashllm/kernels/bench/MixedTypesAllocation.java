package io.flashllm.kernels.bench;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.WeightTensor;

import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Random;

/**
 * Sends every type's {@code matvec} and {@code matvecRows} through the same {@code MatVec} call
 * sites in one JVM, then prints the bytes each type's products allocate (best of five windows of
 * 1,000). Steady-state products allocate nothing; a kernel whose vector operations C2 compiled
 * with boxed vectors allocates megabytes. Exits 1 when a type allocates. Run it with
 * {@code java -Xbatch --add-modules jdk.incubator.vector -cp server/target/flashllm.jar} and this
 * class: without {@link io.flashllm.kernels.JitFlags#FLAGS} most such runs fail (kernels/README.md,
 * "Boxed multi-row kernels"); {@code MixedTypesAllocationTest} runs it with them.
 */
public final class MixedTypesAllocation {
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private MixedTypesAllocation() {}

    /**
     * Arguments, all optional: the types (comma-separated, default every type), then the rows and
     * columns of each matrix (default 128 and 1024; columns a multiple of 256).
     */
    public static void main(String[] args) {
        io.flashllm.kernels.JitFlags.missing().ifPresent(m -> System.out.println("warning: " + m));
        GgmlType[] types = args.length > 0 && !args[0].equals("all")
                ? Arrays.stream(args[0].split(",")).map(GgmlType::valueOf).toArray(GgmlType[]::new)
                : GgmlType.values();
        int rowCount = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int cols = args.length > 2 ? Integer.parseInt(args[2]) : 1024;
        if (rowCount < 2 || cols < 256 || cols % 256 != 0) {
            throw new IllegalArgumentException("rows >= 2 and columns a positive multiple of 256, got " + rowCount + " x " + cols);
        }
        boolean clean = true;
        try (Arena arena = Arena.ofShared(); Parallel pool = Parallel.create(2)) {
            WeightTensor[] ws = new WeightTensor[types.length];
            for (int t = 0; t < types.length; t++) {
                ws[t] = BenchTensors.matrices(arena, types[t], rowCount, cols, 1, t)[0];
            }
            Random rnd = new Random(9);
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) x[i] = (float) rnd.nextGaussian();
            float[] out = new float[rowCount], gathered = new float[rowCount / 2];
            int[] rows = new int[rowCount / 2];
            for (int i = 0; i < rows.length; i++) rows[i] = (i * 7) % rowCount;
            for (int i = 0; i < 2000; i++) {
                for (WeightTensor w : ws) {
                    MatVec.matvec(pool, w, x, out);
                    MatVec.matvecRows(pool, w, rows, rows.length, x, gathered);
                }
            }
            long[] ids = MX.getAllThreadIds();
            for (WeightTensor w : ws) {
                long allocated = Long.MAX_VALUE;
                for (int window = 0; window < 5 && allocated >= 8 * 1024; window++) {
                    long before = allocated(ids);
                    for (int i = 0; i < 500; i++) {
                        MatVec.matvec(pool, w, x, out);
                        MatVec.matvecRows(pool, w, rows, rows.length, x, gathered);
                    }
                    allocated = Math.min(allocated, allocated(ids) - before);
                }
                clean &= allocated < 8 * 1024;
                System.out.printf("%-6s %,14d bytes per 1,000 products%s%n", w.type(), allocated,
                        allocated < 8 * 1024 ? "" : "  <- boxed vector code");
            }
        }
        if (!clean) System.exit(1);
    }

    private static long allocated(long[] ids) {
        long sum = 0;
        for (long a : MX.getThreadAllocatedBytes(ids)) sum += Math.max(a, 0);
        return sum;
    }
}
