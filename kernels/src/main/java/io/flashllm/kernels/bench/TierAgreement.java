package io.flashllm.kernels.bench;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.Ops;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.WeightTensor;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Whether every kernel gives the same bits before C2 has compiled it as after. Run in a fresh JVM,
 * the first call of each product runs in the interpreter or C1; then the products run again until
 * the time is up (C2 compiles them meanwhile), each result compared with the first bit for bit.
 * Until session 48 they differed in the last bits (reduceLanes adds in another order in C2), and so
 * did a run's log-probabilities from the next run's (kernels/README.md, "Run-to-run differences
 * in the last bits"). Prints a line per type and exits 1 when any result differed.
 *
 * <p>Arguments, all optional: the types (comma-separated, default every type), then seconds (default 4).
 */
public final class TierAgreement {
    private static final int ROWS = 64, COLS = 1024, BATCH = 48;

    private TierAgreement() {}

    public static void main(String[] args) {
        io.flashllm.kernels.JitFlags.missing().ifPresent(m -> System.out.println("warning: " + m));
        GgmlType[] types = args.length > 0 && !args[0].equals("all")
                ? Arrays.stream(args[0].split(",")).map(GgmlType::valueOf).toArray(GgmlType[]::new)
                : GgmlType.values();
        long nanos = (long) ((args.length > 1 ? Double.parseDouble(args[1]) : 4) * 1e9);
        Random rnd = new Random(5);
        float[] x = new float[BATCH * COLS];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        int[] picked = new int[ROWS / 2];
        for (int i = 0; i < picked.length; i++) picked[i] = (i * 7) % ROWS;
        boolean agree = true;
        try (Arena arena = Arena.ofShared(); Parallel pool = Parallel.create(2)) {
            List<Products> all = new ArrayList<>();
            for (GgmlType t : types) all.add(new Products(BenchTensors.matrices(arena, t, ROWS, COLS, 1, t.ordinal())[0], x, picked));
            WeightTensor norm = BenchTensors.matrices(arena, GgmlType.F32, 1, COLS, 1, 99)[0];
            float[][] first = new float[all.size()][];
            for (int i = 0; i < all.size(); i++) first[i] = all.get(i).run(pool);
            float[] firstOps = ops(norm, x);
            int[] differed = new int[all.size()];
            int opsDiffered = 0;
            long calls = 0;
            for (long end = System.nanoTime() + nanos; System.nanoTime() < end; calls++) {
                for (int i = 0; i < all.size(); i++) {
                    if (!Arrays.equals(first[i], all.get(i).run(pool))) differed[i]++;
                }
                if (!Arrays.equals(firstOps, ops(norm, x))) opsDiffered++;
            }
            for (int i = 0; i < all.size(); i++) {
                agree &= differed[i] == 0;
                System.out.printf("%-6s %,8d of %,d later calls differed from the first%s%n", all.get(i).w.type(),
                        differed[i], calls, differed[i] == 0 ? "" : "  <- differs between JIT tiers");
            }
            agree &= opsDiffered == 0;
            System.out.printf("ops    %,8d of %,d later calls differed from the first%s%n", opsDiffered, calls,
                    opsDiffered == 0 ? "" : "  <- differs between JIT tiers");
            for (Products p : all) agree &= batchKeepsItsClaim(pool, p.w, x);
        }
        System.exit(agree ? 0 : 1);
    }

    /**
     * Whether a type that says its small batches give matvec's bits ({@link MatVec#smallBatchMatchesMatvec},
     * on which {@code serve --deterministic} keeps decode batching) does, for batches of two to seven
     * rows; prints what the type says and what was found.
     */
    private static boolean batchKeepsItsClaim(Parallel pool, WeightTensor w, float[] x) {
        boolean claims = MatVec.smallBatchMatchesMatvec(w.type());
        int differed = 0;
        float[] alone = new float[ROWS];
        for (int batch = 2; batch < 8; batch++) {
            float[] out = new float[batch * ROWS];
            MatVec.matmul(pool, w, x, batch, out);
            for (int b = 0; b < batch; b++) {
                MatVec.matvec(pool, w, Arrays.copyOfRange(x, b * COLS, (b + 1) * COLS), alone);
                for (int r = 0; r < ROWS; r++) {
                    if (Float.floatToRawIntBits(out[b * ROWS + r]) != Float.floatToRawIntBits(alone[r])) differed++;
                }
            }
        }
        System.out.printf("%-6s batches of 2-7: %,d outputs differ from matvec's, %s%s%n", w.type(), differed,
                claims ? "says none" : "says they may", claims && differed > 0 ? "  <- breaks its claim" : "");
        return !claims || differed == 0;
    }

    /** RMSNorm and softmax of the first activation row, one after the other. */
    private static float[] ops(WeightTensor norm, float[] x) {
        float[] out = new float[2 * COLS];
        Ops.rmsnorm(out, 0, x, 0, COLS, norm, 1e-5f);
        System.arraycopy(x, COLS, out, COLS, COLS);
        Ops.softmax(out, COLS, COLS, 0.5f);
        return out;
    }

    /** One type's products, every entry point the engine uses, into one array. */
    private static final class Products {
        final WeightTensor w;
        final float[] x;
        final int[] picked;
        final float[] out = new float[ROWS + ROWS / 2 + 5 * ROWS + BATCH * ROWS + 1 + COLS];

        Products(WeightTensor w, float[] x, int[] picked) {
            this.w = w;
            this.x = x;
            this.picked = picked;
        }

        float[] run(Parallel pool) {
            float[] o = new float[ROWS];
            MatVec.matvec(pool, w, x, o);
            int at = 0;
            System.arraycopy(o, 0, out, at, ROWS);
            at += ROWS;
            float[] g = new float[picked.length];
            MatVec.matvecRows(pool, w, picked, picked.length, x, g);
            System.arraycopy(g, 0, out, at, g.length);
            at += g.length;
            float[] b5 = new float[5 * ROWS];
            MatVec.matmul(pool, w, x, 5, b5);
            System.arraycopy(b5, 0, out, at, b5.length);
            at += b5.length;
            float[] b = new float[BATCH * ROWS];
            MatVec.matmul(pool, w, x, BATCH, b);
            System.arraycopy(b, 0, out, at, b.length);
            at += b.length;
            out[at++] = MatVec.dot(w, 3, x, 0);
            float[] acc = new float[COLS];
            MatVec.axpy(w, 5, 0.75f, acc);
            System.arraycopy(acc, 0, out, at, COLS);
            return out.clone();
        }
    }
}
