package io.flashllm.engine.model;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * Attention of one decode token, on the calling thread: every kv head of every layer attends over
 * {@code --ctx} cached positions, as {@link Transformer} has it do, once in the blocked form (heads of
 * whole vectors) and once row by row, alternating within each round so that the machine's drift
 * falls on both. Prints nanoseconds per kv head and position for each and their ratio per round,
 * then the medians. The defaults are the 1.1B Llama of docs/benchmarks.md (16 layers, 8 kv heads of
 * 64, groups of 4) with an F16 cache; the cache of all layers (8.4 MB at 256 positions) does not fit
 * in L2, as in a real decode where the weights pass through between layers.
 *
 * <p>With {@code --batch N}, a prompt batch instead: N rows at the last N of the {@code --ctx} positions,
 * each row's heads attending causally, as {@link BatchAttention}'s matrix products against the rows
 * attended one by one in the blocked form; nanoseconds per query head and position attended.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -cp engine/target/classes:kernels/target/classes
 * io.flashllm.engine.model.AttentionBench [--ctx 256] [--batch 0] [--layers 16] [--kv-heads 8] [--head-dim 64]
 * [--group 4] [--kv-type F16|F32|Q8_0] [--rounds 6] [--seconds 0.5]}
 */
public final class AttentionBench {
    private AttentionBench() {}

    public static void main(String[] args) {
        int ctx = 256, batch = 0, layers = 16, kvHeads = 8, headDim = 64, group = 4, rounds = 6;
        double seconds = 0.5;
        KvCacheType type = KvCacheType.F16;
        for (int i = 0; i < args.length; i += 2) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            if (v == null) usage("missing value after " + args[i]);
            try {
                switch (args[i]) {
                    case "--ctx" -> ctx = Integer.parseInt(v);
                    case "--batch" -> batch = Integer.parseInt(v);
                    case "--layers" -> layers = Integer.parseInt(v);
                    case "--kv-heads" -> kvHeads = Integer.parseInt(v);
                    case "--head-dim" -> headDim = Integer.parseInt(v);
                    case "--group" -> group = Integer.parseInt(v);
                    case "--kv-type" -> type = KvCacheType.valueOf(v.toUpperCase(Locale.ROOT));
                    case "--rounds" -> rounds = Integer.parseInt(v);
                    case "--seconds" -> seconds = Double.parseDouble(v);
                    default -> usage("unknown option " + args[i]);
                }
            } catch (IllegalArgumentException e) {
                usage("bad value '" + v + "' for " + args[i]);
            }
        }
        if (ctx < 1 || layers < 1 || kvHeads < 1 || headDim < 1 || group < 1 || rounds < 1 || !(seconds > 0)) {
            usage("sizes, rounds and seconds must be positive");
        }
        if (batch < 0 || batch > ctx) usage("--batch must be 0..ctx");
        if (batch > 0 && headDim % io.flashllm.kernels.cpu.Simd.L != 0) usage("--batch needs heads of whole vectors");
        try (KvCache cache = new KvCache(type, layers, ctx, kvHeads * headDim, headDim)) {
            Random rnd = new Random(1);
            fillGaussian(cache, layers, ctx, kvHeads * headDim, rnd);
            if (batch > 0) {
                batch(new Batch(cache, layers, kvHeads, headDim, group, ctx, batch, rnd), rounds, seconds, type);
                return;
            }
            Token token = new Token(cache, layers, kvHeads, headDim, group, ctx, rnd);
            System.out.printf(Locale.ROOT, "attention of one token: %d layers x %d kv heads of %d, groups of %d, %d positions, %s cache, one thread%n",
                    layers, kvHeads, headDim, group, ctx, type);
            if (headDim % io.flashllm.kernels.cpu.Simd.L != 0) {
                System.out.println("heads of " + headDim + " are not whole vectors: both columns are the row-wise form");
            }
            token.time(true, seconds); // warm-up: both forms compiled before the first round
            token.time(false, seconds);
            alternate(token::time, rounds, seconds, (double) layers * kvHeads * ctx, "kv head and position", "a token",
                    "blocked", "row-wise");
        }
    }

    /** One decode token's queries and outputs, and the loop over layers and kv heads. */
    private record Token(KvCache cache, int layers, int kvHeads, int headDim, int group, int ctx, float[] q,
                         float[] out, float[] scores) {
        Token(KvCache cache, int layers, int kvHeads, int headDim, int group, int ctx, Random rnd) {
            this(cache, layers, kvHeads, headDim, group, ctx, queries(kvHeads * group * headDim, rnd),
                    new float[kvHeads * group * headDim], new float[kvHeads * group * ctx]);
        }

        static float[] queries(int n, Random rnd) {
            float[] q = new float[n];
            for (int i = 0; i < n; i++) q[i] = (float) (0.1 * rnd.nextGaussian());
            return q;
        }

        /** Nanoseconds per token, over whole tokens for at least {@code seconds}. */
        double time(boolean blocked, double seconds) {
            return nanosPerRun(() -> run(blocked), seconds);
        }

        private void run(boolean blocked) {
            for (int l = 0; l < layers; l++) {
                for (int h = 0; h < kvHeads; h++) {
                    int qOff = h * group * headDim;
                    if (blocked && headDim % io.flashllm.kernels.cpu.Simd.L == 0) {
                        Attention.attendBlocked(cache, l, h, group, headDim, q, qOff, 0, ctx - 1, 0.125f, 0f, null, 0,
                                scores, h * group * ctx, ctx, out, qOff);
                    } else {
                        Attention.attendRowwise(cache, l, h, group, headDim, q, qOff, 0, ctx - 1, 0.125f, 0f, null, 0,
                                scores, h * group * ctx, ctx, out, qOff);
                    }
                }
            }
        }
    }

    private static void batch(Batch b, int rounds, double seconds, KvCacheType type) {
        System.out.printf(Locale.ROOT, "attention of a prompt batch: %d rows at positions %d..%d, %d layers x %d kv heads of %d, groups of %d, %s cache, one thread%n",
                b.count, b.ctx - b.count, b.ctx - 1, b.layers, b.kvHeads, b.headDim, b.group, type);
        b.time(true, seconds);
        b.time(false, seconds);
        // query heads times the positions each attends to: rows ctx-count..ctx-1 attend to 1 + their position each
        double pairs = (double) b.layers * b.kvHeads * b.group * ((double) b.count * (b.ctx - b.count) + b.count * (b.count + 1) / 2.0);
        alternate(b::time, rounds, seconds, pairs, "query head and position", "a batch", "matrix products", "row by row");
    }

    /** Times one of two forms of the same work ({@code true}: the first) in nanoseconds per run. */
    private interface Form {
        double time(boolean first, double seconds);
    }

    /**
     * The two forms alternated, each round starting with the other, so that the machine's drift falls on
     * both: nanoseconds per unit of work ({@code units} of them a run) for each, the second's over the
     * first's per round, then the medians.
     */
    private static void alternate(Form form, int rounds, double seconds, double units, String unit, String run,
                                  String first, String second) {
        double[] a = new double[rounds], b = new double[rounds], ratio = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            boolean firstFirst = r % 2 == 0;
            double x = form.time(firstFirst, seconds), y = form.time(!firstFirst, seconds);
            a[r] = (firstFirst ? x : y) / units;
            b[r] = (firstFirst ? y : x) / units;
            ratio[r] = b[r] / a[r];
            System.out.printf(Locale.ROOT, "round %d  ns per %s: %s %.2f  %s %.2f  ratio %.2f%n",
                    r + 1, unit, first, a[r], second, b[r], ratio[r]);
        }
        System.out.printf(Locale.ROOT, "median: %s %.2f ns (%.3f ms %s)  %s %.2f ns (%.3f ms)  ratio %.2f (range %.2f-%.2f)%n",
                first, median(a), median(a) * units / 1e6, run, second, median(b), median(b) * units / 1e6,
                median(ratio), Arrays.stream(ratio).min().orElse(0), Arrays.stream(ratio).max().orElse(0));
    }

    /** A prompt batch's queries and outputs (rows of every kv head's group), and the loop over layers and kv heads. */
    private record Batch(KvCache cache, int layers, int kvHeads, int headDim, int group, int ctx, int count, float[] q,
                         float[] out, float[] scores) {
        Batch(KvCache cache, int layers, int kvHeads, int headDim, int group, int ctx, int count, Random rnd) {
            this(cache, layers, kvHeads, headDim, group, ctx, count, Token.queries(count * kvHeads * group * headDim, rnd),
                    new float[count * kvHeads * group * headDim], new float[group * ctx]);
        }

        /** Nanoseconds per batch, over whole batches for at least {@code seconds}. */
        double time(boolean matrix, double seconds) {
            return nanosPerRun(() -> run(matrix), seconds);
        }

        private void run(boolean matrix) {
            int qDim = kvHeads * group * headDim, start = ctx - count;
            for (int l = 0; l < layers; l++) {
                for (int h = 0; h < kvHeads; h++) {
                    int h0 = h * group * headDim;
                    if (matrix) {
                        BatchAttention.attend(cache, l, h, headDim, group, q, h0, qDim, count, start, 0, 0.125f, 0f, null, 0, out);
                    } else {
                        for (int b = 0; b < count; b++) {
                            Attention.attendBlocked(cache, l, h, group, headDim, q, b * qDim + h0, 0, start + b, 0.125f, 0f,
                                    null, 0, scores, 0, ctx, out, b * qDim + h0);
                        }
                    }
                }
            }
        }
    }

    /** Nanoseconds per call of {@code run}, over whole calls for at least {@code seconds}. */
    private static double nanosPerRun(Runnable run, double seconds) {
        long start = System.nanoTime(), end = start + (long) (seconds * 1e9);
        int runs = 0;
        long now;
        do {
            run.run();
            runs++;
            now = System.nanoTime();
        } while (now < end);
        return (double) (now - start) / runs;
    }

    /** Every position of every layer of {@code cache} given keys and values drawn from a standard normal. */
    static void fillGaussian(KvCache cache, int layers, int ctx, int kvDim, Random rnd) {
        float[] key = new float[kvDim], value = new float[kvDim];
        for (int l = 0; l < layers; l++) {
            for (int t = 0; t < ctx; t++) {
                for (int i = 0; i < kvDim; i++) {
                    key[i] = (float) rnd.nextGaussian();
                    value[i] = (float) rnd.nextGaussian();
                }
                cache.store(l, t, key, 0, value, 0);
            }
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static void usage(String why) {
        System.err.println("AttentionBench: " + why);
        System.err.println("usage: AttentionBench [--ctx 256] [--batch 0] [--layers 16] [--kv-heads 8] [--head-dim 64] [--group 4] "
                + "[--kv-type F16|F32|Q8_0] [--rounds 6] [--seconds 0.5]");
        System.exit(2);
    }
}
