package io.flashllm.predictor.bench;

import io.flashllm.flashstore.select.Selection;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.predictor.format.PredictorFileWriter;
import io.flashllm.predictor.format.PredictorFormat;
import io.flashllm.predictor.format.PredictorSet;
import io.flashllm.predictor.format.PredictorStats;
import io.flashllm.predictor.runtime.PredictedSelector;
import io.flashllm.predictor.train.LowRank;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The predictor's cost per token against the matrix-vector work of a token, measured in one run
 * on the same machine: per layer the predictor (rank r, Q8 and F32), the attention projections
 * (q, k, v, o) and the FFN (gate, up, down) as Q8_0 matvecs with the kernels module, dense and
 * over a fraction of the neurons (predicted mode). Shapes default to the 1.1B synthetic Llama.
 *
 * <pre>java ... io.flashllm.predictor.bench.SelectorCostBench [layers dim ffn kvDim rank threads activeFraction]</pre>
 */
public final class SelectorCostBench {
    private SelectorCostBench() {}

    public static void main(String[] args) throws IOException {
        int layers = arg(args, 0, 16);
        int dim = arg(args, 1, 2048);
        int ffn = arg(args, 2, 8192);
        int kvDim = arg(args, 3, 512);
        int rank = arg(args, 4, 128);
        int threads = arg(args, 5, 2);
        double active = args.length > 6 ? Double.parseDouble(args[6]) : 0.10;
        Random r = new Random(3);
        Path work = Files.createTempDirectory("selector-cost");
        try (Arena arena = Arena.ofShared(); Parallel par = Parallel.create(threads)) {
            // One layer's worth of Q8_0 weights, reused for every layer: the cost is per matvec, and
            // a layer's matrices (~44 MB) already exceed the caches, as in a real model.
            WeightTensor q = q8(arena, r, "q", dim, dim);
            WeightTensor k = q8(arena, r, "k", kvDim, dim);
            WeightTensor v = q8(arena, r, "v", kvDim, dim);
            WeightTensor o = q8(arena, r, "o", dim, dim);
            WeightTensor gate = q8(arena, r, "gate", ffn, dim);
            WeightTensor up = q8(arena, r, "up", ffn, dim);
            WeightTensor down = q8(arena, r, "down", dim, ffn);
            float[] x = new float[dim];
            for (int i = 0; i < dim; i++) x[i] = (float) r.nextGaussian();
            float[] h = new float[ffn];
            for (int i = 0; i < ffn; i++) h[i] = (float) r.nextGaussian();
            float[] outD = new float[dim];
            float[] outF = new float[ffn];
            float[] outK = new float[kvDim];
            int sel = (int) Math.round(active * ffn);
            int[] rows = new int[sel];
            for (int i = 0; i < sel; i++) rows[i] = (int) ((long) i * ffn / sel);

            Runnable attention = () -> {
                MatVec.matvec(par, q, x, outD);
                MatVec.matvec(par, k, x, outK);
                MatVec.matvec(par, v, x, outK);
                MatVec.matvec(par, o, x, outD);
            };
            Runnable denseFfn = () -> {
                MatVec.matvec(par, gate, x, outF);
                MatVec.matvec(par, up, x, outF);
                MatVec.matvec(par, down, h, outD);
            };
            Runnable sparseFfn = () -> {
                MatVec.matvecRows(par, gate, rows, sel, x, outF);
                MatVec.matvecRows(par, up, rows, sel, x, outF);
                MatVec.matvec(par, down, h, outD); // down columns: the bundle path reads them as rows; same bytes
            };
            double att = perToken(attention, layers);
            double dense = perToken(denseFfn, layers);
            double sparse = perToken(sparseFfn, layers) - perDown(par, down, h, outD, layers) * (1 - active);
            System.out.printf("per token, %d layers, %d threads: attention projections %.2f ms, dense FFN %.2f ms, FFN over %.0f%%"
                    + " of neurons %.2f ms%n", layers, threads, att, dense, 100 * active, sparse);

            List<PredictorFormat.WeightType> types = List.of(PredictorFormat.WeightType.Q8, PredictorFormat.WeightType.F32);
            List<PredictorSet> sets = new ArrayList<>();
            try {
                for (PredictorFormat.WeightType type : types) {
                    List<Path> files = new ArrayList<>();
                    for (int l = 0; l < layers; l++) {
                        LowRank p = new LowRank(dim, ffn, rank);
                        for (int i = 0; i < p.a.length; i++) p.a[i] = (float) r.nextGaussian();
                        for (int i = 0; i < p.b.length; i++) p.b[i] = (float) r.nextGaussian();
                        p.threshold = 3f * (float) Math.sqrt(rank * dim);
                        Path f = work.resolve(type + "-" + l + ".bin");
                        PredictorFileWriter.write(f, l, p, type, new PredictorStats(1, 1, 0, 0, 0.99f, 0, 0));
                        files.add(f);
                    }
                    sets.add(PredictorSet.openFiles(files, "cost"));
                }
                Selection s = new Selection(ffn);
                double[] best = new double[2 * types.size()];
                java.util.Arrays.fill(best, Double.MAX_VALUE);
                // Alternate the variants round by round so load changes on the shared machine hit all alike.
                for (int round = 0; round < 6; round++) {
                    for (int t = 0; t < best.length; t++) {
                        PredictedSelector selector = new PredictedSelector(sets.get(t % types.size()), null, t < types.size() ? null : par);
                        Runnable predict = () -> {
                            for (int l = 0; l < layers; l++) {
                                s.clear();
                                selector.select(l, x, s);
                            }
                        };
                        best[t] = Math.min(best[t], perToken(predict, 1));
                    }
                }
                for (int t = 0; t < best.length; t++) {
                    double ms = best[t];
                    System.out.printf("predictor rank %d (%s, %.1f MiB, %d thread%s): %.3f ms per token = %.1f%% of a dense token's"
                            + " matvecs, %.1f%% of a predicted token's (attention + FFN over %.0f%% + predictor)%n", rank,
                            types.get(t % types.size()), sets.get(t % types.size()).bytes() / 1048576.0,
                            t < types.size() ? 1 : threads, t < types.size() ? "" : "s", ms, 100 * ms / (att + dense),
                            100 * ms / (att + sparse + ms), 100 * active);
                }
            } finally {
                for (PredictorSet ps : sets) ps.close();
            }
        } finally {
            try (Stream<Path> s = Files.walk(work)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    private static double perDown(Parallel par, WeightTensor down, float[] h, float[] out, int layers) {
        return perToken(() -> MatVec.matvec(par, down, h, out), layers);
    }

    /** Best of several rounds (the machine is shared), ms for {@code repeat} runs of {@code r}. */
    private static double perToken(Runnable r, int repeat) {
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 12; round++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < repeat; i++) r.run();
            double ms = (System.nanoTime() - t0) / 1e6;
            if (round >= 3) best = Math.min(best, ms);
        }
        return best;
    }

    /** Random Q8_0 matrix: valid F16 scales, random quants. */
    private static WeightTensor q8(Arena arena, Random r, String name, int rows, int cols) {
        long bytes = GgmlType.Q8_0.bytesFor((long) rows * cols);
        MemorySegment s = arena.allocate(bytes, 64);
        byte[] block = new byte[34];
        for (long b = 0; b < bytes / 34; b++) {
            r.nextBytes(block);
            short scale = Float.floatToFloat16(0.01f);
            block[0] = (byte) scale;
            block[1] = (byte) (scale >> 8);
            MemorySegment.copy(block, 0, s, ValueLayout.JAVA_BYTE, b * 34, 34);
        }
        return new WeightTensor(name, GgmlType.Q8_0, new long[] {cols, rows}, s);
    }

    private static int arg(String[] args, int i, int dflt) {
        return args.length > i ? Integer.parseInt(args[i]) : dflt;
    }
}
