package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.cache.LayerCounters;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.flashstore.io.IoEngine;
import io.flashllm.flashstore.select.DenseSelector;
import io.flashllm.flashstore.select.GateExactSelector;
import io.flashllm.flashstore.select.NeuronSelector;
import io.flashllm.flashstore.writer.GgufWriter;
import io.flashllm.flashstore.writer.Quantizer;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.WeightTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Bundle FFN under a cache smaller than the FFN, against the same FFN computed densely from the
 * memory-mapped source: time per token, flash bytes per token, cache hit rate. The synthetic
 * gated-ReLU model fires about {@code --active} of its neurons per token, and successive FFN inputs
 * are correlated ({@code --rho}) as real hidden states are, so windowing has something to reuse.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp ... \
 *     io.flashllm.flashstore.bundle.BundleBench [--dir D] [--layers 4] [--dim 2048] [--ffn 8192]
 *     [--type Q8_0] [--active 0.1] [--rho 0.9] [--tokens 32] [--cache 0.3] [--window 5] [--threads 2] [--min-read 32k]
 * </pre>
 */
public final class BundleBench {
    private BundleBench() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of("flashllm-bundlebench");
        int layers = 4, dim = 2048, ffn = 8192, tokens = 32, window = 5, threads = 2, warmup = 8;
        GgmlType type = GgmlType.Q8_0;
        double active = 0.1, rho = 0.9, cache = 0.3;
        int minRead = ConvertOptions.DEFAULT_MIN_READ;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--layers" -> layers = Integer.parseInt(args[++i]);
                case "--dim" -> dim = Integer.parseInt(args[++i]);
                case "--ffn" -> ffn = Integer.parseInt(args[++i]);
                case "--type" -> type = GgmlType.valueOf(args[++i]);
                case "--active" -> active = Double.parseDouble(args[++i]);
                case "--rho" -> rho = Double.parseDouble(args[++i]);
                case "--tokens" -> tokens = Integer.parseInt(args[++i]);
                case "--cache" -> cache = Double.parseDouble(args[++i]);
                case "--window" -> window = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--min-read" -> minRead = (int) io.flashllm.flashstore.budget.MemorySize.parse(args[++i]);
                default -> {
                    System.err.println("unknown option " + args[i]);
                    System.exit(2);
                }
            }
        }
        Files.createDirectories(dir);
        Path src = dir.resolve("ffn-" + layers + "x" + dim + "x" + ffn + "-" + type + ".gguf");
        // Gate rows carry a negative offset and inputs a positive mean, so gate·x > 0 for about `active` of the neurons.
        double beta = offsetFor(active, dim);
        if (!Files.exists(src)) {
            long t0 = System.nanoTime();
            write(src, layers, dim, ffn, type, beta);
            System.out.printf(Locale.ROOT, "wrote %s (%d MiB) in %.1f s%n", src, Files.size(src) >> 20, (System.nanoTime() - t0) / 1e9);
        }
        Path bundle = dir.resolve(src.getFileName() + ".min" + minRead + ".bundle");
        FfnActivation relu = new FfnActivation(FfnActivation.Kind.GATED_RELU, 0);
        if (!Files.exists(bundle)) {
            ConvertReport r = Converter.convert(src, bundle, ConvertOptions.defaults().withActivation(relu).withMinReadBytes(minRead));
            System.out.println(r);
        }
        try (Parallel par = Parallel.create(threads); GgufFile g = GgufFile.open(src);
             GgufFile res = GgufFile.open(bundle.resolve(BundleFormat.RESIDENT_GGUF))) {
            float[][][] xs = inputs(tokens, layers, dim, rho, 7);
            dense(g, par, relu, xs, layers, dim, ffn); // warm-up: JIT and page cache
            double denseMs = dense(g, par, relu, xs, layers, dim, ffn);
            System.out.printf(Locale.ROOT, "dense in-memory FFN (mapped source, %d threads): %.2f ms/token%n", threads, denseMs);
            List<WeightTensor> gates = new ArrayList<>();
            for (int l = 0; l < layers; l++) gates.add(res.tensor("blk." + l + ".ffn_gate.weight"));
            for (NeuronSelector sel : List.of(new GateExactSelector(gates, relu, par), new DenseSelector())) {
                int rows = (int) Math.round(cache * ffn);
                Manifest m = Manifest.read(bundle);
                List<FfnFile> files = new ArrayList<>();
                for (String f : m.layout().layerFiles()) files.add(FfnFile.open(bundle.resolve(f), true));
                BundleFfnOptions o = BundleFfnOptions.unlimited(ffn).withCache(rows, rows / 4).withWindow(window).withHotWarmup(8)
                        .withWindowFloor(Boolean.parseBoolean(System.getProperty("flashllm.cache.windowFloor", "true")));
                try (BundleFeedForward b = new BundleFeedForward(files, gates, null, null, relu, sel, o,
                        new IoEngine(16, 1 << 20), true, par)) {
                    float[] out = new float[dim];
                    // The first tokens warm the JIT (Vector API code is slow until compiled) and the cache.
                    int warm = Math.min(warmup, tokens - 1);
                    for (int t = 0; t < warm; t++) for (int l = 0; l < layers; l++) b.forward(l, xs[t][l], out);
                    long[] before = totals(b, layers);
                    long t0 = System.nanoTime();
                    for (int t = warm; t < tokens; t++) for (int l = 0; l < layers; l++) b.forward(l, xs[t][l], out);
                    int measured = tokens - warm;
                    double ms = (System.nanoTime() - t0) / 1e6 / measured;
                    long[] after = totals(b, layers);
                    long bytes = after[0] - before[0], lookups = after[1] - before[1], hits = after[2] - before[2];
                    long reads = after[3] - before[3], nanos = after[4] - before[4], selN = after[5] - before[5];
                    long loadN = after[6] - before[6], compN = after[7] - before[7];
                    final int measuredTokens = measured;
                    System.out.printf(Locale.ROOT, "bundle %-10s cache %.0f%% (%d rows/layer), window %d: %.2f ms/token,"
                                    + " %.2f MiB read/token (%.1f%% of FFN), %.1f%% of lookups hit, %d reads of %.0f KiB mean,"
                                    + " %.0f us mean read latency, %.0f%% neurons selected%n",
                            sel.name(), cache * 100, rows, window, ms, bytes / (double) measuredTokens / (1 << 20),
                            100.0 * bytes / measuredTokens / ffnBytes(m, layers), 100.0 * hits / Math.max(1, lookups), reads,
                            bytes / Math.max(1.0, reads) / 1024, nanos / Math.max(1.0, reads) / 1000,
                            100.0 * lookups / measuredTokens / layers / ffn);
                    System.out.printf(Locale.ROOT, "    per token: select %.2f ms, blocked on reads %.2f ms, compute %.2f ms%n",
                            selN / 1e6 / measuredTokens, loadN / 1e6 / measuredTokens, compN / 1e6 / measuredTokens);
                }
            }
        }
    }

    /** Counter sums over layers: bytes, lookups, hits, reads, read nanos, select, load, compute nanos. */
    private static long[] totals(BundleFeedForward b, int layers) {
        long[] t = new long[8];
        for (int l = 0; l < layers; l++) {
            LayerCounters c = b.counters(l);
            t[0] += c.bytesRead();
            t[1] += c.lookups();
            t[2] += c.hits();
            t[3] += c.reads();
            t[4] += c.readNanos();
            t[5] += c.selectNanos();
            t[6] += c.loadNanos();
            t[7] += c.computeNanos();
        }
        return t;
    }

    /** Bytes of all FFN files: what a dense read of the FFN per token would cost. */
    private static double ffnBytes(Manifest m, int layers) {
        long b = 0;
        for (Manifest.FileEntry e : m.files()) if (m.layout().layerFiles().contains(e.path())) b += e.bytes();
        return b;
    }

    /** Plain FFN from the mapped source: gate and up matvecs, then down as axpy of the firing neurons. */
    private static double dense(GgufFile g, Parallel par, FfnActivation act, float[][][] xs, int layers, int dim, int ffn) {
        float[] gate = new float[ffn], up = new float[ffn], out = new float[dim];
        float[] h = new float[ffn];
        long t0 = System.nanoTime();
        for (float[][] token : xs) {
            for (int l = 0; l < layers; l++) {
                MatVec.matvec(par, g.tensor("blk." + l + ".ffn_gate.weight"), token[l], gate);
                MatVec.matvec(par, g.tensor("blk." + l + ".ffn_up.weight"), token[l], up);
                for (int j = 0; j < ffn; j++) h[j] = act.apply(gate[j]) * up[j];
                MatVec.matvec(par, g.tensor("blk." + l + ".ffn_down.weight"), h, out);
            }
        }
        return (System.nanoTime() - t0) / 1e6 / xs.length;
    }

    /** Offset β with P(g·x > 0) ≈ p for g_i ~ N(0, 1/dim) − β/dim and x_i ~ N(1, 1). */
    static double offsetFor(double p, int dim) {
        // g·x has mean −β and variance ≈ 2 + β²/dim; solve −β / sqrt(2 + β²/dim) = z_p.
        double z = inverseNormal(p);
        double lo = 0, hi = 1e6;
        for (int i = 0; i < 200; i++) {
            double mid = (lo + hi) / 2;
            double v = -mid / Math.sqrt(2 + mid * mid / dim);
            if (v > z) lo = mid;
            else hi = mid;
        }
        return lo;
    }

    private static double inverseNormal(double p) {
        double lo = -10, hi = 10;
        for (int i = 0; i < 200; i++) {
            double mid = (lo + hi) / 2;
            if (normalCdf(mid) < p) lo = mid;
            else hi = mid;
        }
        return lo;
    }

    private static double normalCdf(double z) {
        // Abramowitz–Stegun 7.1.26 on erf, plenty for choosing a synthetic offset.
        double t = 1 / (1 + 0.3275911 * Math.abs(z) / Math.sqrt(2));
        double erf = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
                * Math.exp(-z * z / 2);
        return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
    }

    private static float[][][] inputs(int tokens, int layers, int dim, double rho, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][][] xs = new float[tokens][layers][dim];
        double keep = Math.sqrt(1 - rho * rho);
        float[][] noise = new float[layers][dim];
        for (int t = 0; t < tokens; t++) {
            for (int l = 0; l < layers; l++) {
                for (int i = 0; i < dim; i++) {
                    noise[l][i] = (float) (t == 0 ? gauss(r) : rho * noise[l][i] + keep * gauss(r));
                    xs[t][l][i] = 1f + noise[l][i];
                }
            }
        }
        return xs;
    }

    private static double gauss(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    private static void write(Path file, int layers, int dim, int ffn, GgmlType type, double beta) throws Exception {
        GgufWriter w = new GgufWriter(file);
        w.putString("general.architecture", "llama");
        w.putString("general.name", "bundlebench");
        SplittableRandom r = new SplittableRandom(1);
        float scale = (float) (1 / Math.sqrt(dim));
        for (int l = 0; l < layers; l++) {
            float offset = (float) (beta / dim);
            w.addTensor("blk." + l + ".ffn_gate.weight", type, new long[] {dim, ffn}, out -> rows(out, r, ffn, dim, scale, -offset, type));
            w.addTensor("blk." + l + ".ffn_up.weight", type, new long[] {dim, ffn}, out -> rows(out, r, ffn, dim, scale, 0, type));
            w.addTensor("blk." + l + ".ffn_down.weight", type, new long[] {ffn, dim}, out -> rows(out, r, dim, ffn, scale, 0, type));
        }
        w.write();
    }

    private static void rows(io.flashllm.flashstore.writer.SequentialOutput out, SplittableRandom r, int rows, int cols,
                             float scale, float offset, GgmlType type) throws java.io.IOException {
        float[] row = new float[cols];
        ByteBuffer buf = ByteBuffer.allocate((int) type.bytesFor(cols)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < rows; i++) {
            for (int c = 0; c < cols; c++) row[c] = (float) gauss(r) * scale + offset;
            buf.clear();
            Quantizer.quantize(type, row, 0, cols, buf);
            buf.flip();
            out.put(buf);
        }
    }
}
