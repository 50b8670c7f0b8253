package io.flashllm.predictor.bench;

import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.select.Selection;
import io.flashllm.flashstore.writer.Quantizer;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.predictor.calibrate.BundleCalibration;
import io.flashllm.predictor.calibrate.CalibrationTable;
import io.flashllm.predictor.calibrate.PredictorTraining;
import io.flashllm.predictor.calibrate.ProgressBar;
import io.flashllm.predictor.calibrate.RankPlan;
import io.flashllm.predictor.eval.WindowSimulator;
import io.flashllm.predictor.format.PredictorFileWriter;
import io.flashllm.predictor.format.PredictorFormat;
import io.flashllm.predictor.format.PredictorSet;
import io.flashllm.predictor.format.PredictorStore;
import io.flashllm.predictor.math.Vec;
import io.flashllm.predictor.math.Workers;
import io.flashllm.predictor.runtime.PredictedSelector;
import io.flashllm.predictor.trace.ActivationOracle;
import io.flashllm.predictor.trace.TraceFormat;
import io.flashllm.predictor.trace.TraceRecorder;
import io.flashllm.predictor.train.TrainOptions;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Calibration benchmark at a chosen model shape (default: the 1.1B synthetic Llama's FFN, 16
 * layers, dim 2048, 8192 neurons, Q8_0 gates) on synthetic FFN inputs with a low-dimensional
 * structure: records traces (true masks from the gates), trains rank-r predictors, prints the
 * table, the time of each phase, the predictor's cost per token and the window sweep.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp ... io.flashllm.predictor.bench.PredictorBench
 *   [layers dim ffn rank tokens epochs threads latentDim]</pre>
 */
public final class PredictorBench {
    private PredictorBench() {}

    public static void main(String[] args) throws IOException {
        int layers = arg(args, 0, 16);
        int dim = arg(args, 1, 2048);
        int ffn = arg(args, 2, 8192);
        int rank = arg(args, 3, 128);
        int tokens = arg(args, 4, 2000);
        int epochs = arg(args, 5, 4);
        int threads = arg(args, 6, 2);
        int latent = arg(args, 7, 96);
        TrainOptions.Init init = args.length > 8 ? TrainOptions.Init.valueOf(args[8]) : TrainOptions.Init.ACTIVATIONS;
        int batch = arg(args, 9, TrainOptions.defaults().batchSize());
        float lr = args.length > 10 ? Float.parseFloat(args[10]) : TrainOptions.defaults().learningRate();
        float posWeight = args.length > 11 ? Float.parseFloat(args[11]) : TrainOptions.defaults().positiveWeight();
        System.out.printf("shape: %d layers, dim %d, ffn %d, rank %d, %d tokens, %d epochs, %d threads%n", layers, dim, ffn, rank,
                tokens, epochs, threads);
        Path work = Files.createTempDirectory("predictor-bench");
        try (Arena arena = Arena.ofShared(); Workers workers = new Workers(threads)) {
            Random r = new Random(1);
            long t0 = System.nanoTime();
            List<WeightTensor> gates = new ArrayList<>();
            float[] w = new float[dim * ffn];
            for (int l = 0; l < layers; l++) {
                float scale = (float) (1 / Math.sqrt(dim));
                for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * scale;
                byte[] q = Quantizer.quantize(GgmlType.Q8_0, w);
                MemorySegment seg = arena.allocate(q.length, 64);
                MemorySegment.copy(q, 0, seg, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, q.length);
                gates.add(new WeightTensor("blk." + l + ".ffn_gate.weight", GgmlType.Q8_0, new long[] {dim, ffn}, seg));
            }
            // FFN inputs: a latent-dimensional signal plus noise, like normalized hidden states; a
            // slowly drifting latent so neighbouring tokens share neurons (what windows exploit).
            float[][] mix = new float[layers][dim * latent];
            for (float[] m : mix) for (int i = 0; i < m.length; i++) m[i] = (float) r.nextGaussian();
            // FATReLU threshold putting ~10% of neurons above it.
            FfnActivation act = new FfnActivation(FfnActivation.Kind.GATED_FATRELU, 1.28f);
            ActivationOracle oracle = new ActivationOracle(gates, null, act);
            System.out.printf("setup: %.1f s%n", (System.nanoTime() - t0) / 1e9);

            Path traces = work.resolve("traces");
            FeedForward none = (layer, x, out) -> {};
            long t1 = System.nanoTime();
            long cpuAtRecord = cpuNanos();
            float[][] z = new float[layers][latent];
            float[] x = new float[dim];
            float[] out = new float[dim];
            try (TraceRecorder rec = new TraceRecorder(none, oracle, traces, TraceFormat.XType.F16, 64, workers);
                 ProgressBar bar = new ProgressBar(System.err, "recording", tokens, "tok")) {
                for (int t = 0; t < tokens; t++) {
                    for (int l = 0; l < layers; l++) {
                        for (int i = 0; i < latent; i++) z[l][i] = 0.8f * z[l][i] + 0.6f * (float) r.nextGaussian();
                        for (int c = 0; c < dim; c++) {
                            x[c] = Vec.dot(mix[l], c * latent, z[l], 0, latent) / (float) Math.sqrt(latent)
                                    + 0.3f * (float) r.nextGaussian();
                        }
                        rec.forward(l, x, out);
                    }
                    bar.advance(1);
                }
            }
            long recordMs = (System.nanoTime() - t1) / 1_000_000;
            double recordCpu = (cpuNanos() - cpuAtRecord) / 1e9;
            long traceBytes;
            try (Stream<Path> s = Files.list(traces)) {
                traceBytes = s.mapToLong(p -> p.toFile().length()).sum();
            }
            System.out.printf("recording (synthetic inputs, true masks, trace files): %.1f s wall, %.1f s CPU, traces %.1f MiB%n",
                    recordMs / 1e3, recordCpu, traceBytes / 1048576.0);
            long cpuAtTrain = cpuNanos();

            TrainOptions opts = TrainOptions.defaults().withRank(rank).withEpochs(epochs).withInit(init).withBatchSize(batch)
                    .withLearningRate(lr).withPositiveWeight(posWeight);
            PredictorTraining.Result res = PredictorTraining.train(traces, oracle, act, RankPlan.uniform(layers, rank), opts,
                    PredictorFormat.WeightType.Q8, workers, System.err);
            System.out.println("init " + init + ", batch " + batch + ", lr " + lr + ", positive weight " + posWeight
                    + ", stored as Q8 (thresholds tuned on the quantized weights)");
            long svd = res.reports().stream().mapToLong(x1 -> x1.svdMillis()).sum();
            long adam = res.reports().stream().mapToLong(x1 -> x1.trainMillis()).sum();
            System.out.print(CalibrationTable.format(res.reports()));
            System.out.printf("training: %.1f s wall, %.1f s CPU (SVD %.1f s, Adam + held-out tuning %.1f s wall)%n", res.millis() / 1e3,
                    (cpuNanos() - cpuAtTrain) / 1e9, svd / 1e3, adam / 1e3);

            for (PredictorFormat.WeightType type : List.of(PredictorFormat.WeightType.Q8, PredictorFormat.WeightType.F32)) {
                List<Path> files = new ArrayList<>();
                for (PredictorStore.Entry e : res.entries()) {
                    Path f = work.resolve("p-" + type + "-" + e.layer() + ".bin");
                    PredictorFileWriter.write(f, e.layer(), e.predictor(), type, e.stats());
                    files.add(f);
                }
                try (PredictorSet set = PredictorSet.openFiles(files, "bench")) {
                    PredictedSelector sel = new PredictedSelector(set, null);
                    Selection s = new Selection(ffn);
                    float[] xs = new float[dim];
                    for (int i = 0; i < dim; i++) xs[i] = (float) r.nextGaussian();
                    // Best of several rounds: the machine is shared, the minimum is the predictor's own cost.
                    double msPerToken = Double.MAX_VALUE;
                    for (int round = 0; round < 8; round++) {
                        long before = sel.nanos().sum();
                        long calls = sel.calls().sum();
                        for (int t = 0; t < 100; t++) {
                            for (int l = 0; l < layers; l++) {
                                s.clear();
                                sel.select(l, xs, s);
                            }
                        }
                        double ms = (sel.nanos().sum() - before) / 1e6 / ((sel.calls().sum() - calls) / (double) layers);
                        if (round >= 2) msPerToken = Math.min(msPerToken, ms);
                    }
                    System.out.printf("predictor cost (%s, 1 thread): %.3f ms per token for %d layers, %.1f MiB in DRAM;"
                            + " = %.1f%% of llama.cpp's dense 1.1B Q8_0 token on this machine kind (27.9 ms)%n", type, msPerToken,
                            layers, set.bytes() / 1048576.0, 100 * msPerToken / 27.9);
                    if (type == PredictorFormat.WeightType.Q8) {
                        int hold = res.reports().getFirst().trainTokens();
                        int k = BundleCalibration.SWEEP_MAX_WINDOW;
                        System.out.print(CalibrationTable.formatWindows(WindowSimulator.simulate(traces, layers, sel, hold, k, k),
                                WindowSimulator.simulate(traces, layers, null, hold, k, k)));
                    }
                }
            }
        } finally {
            try (Stream<Path> s = Files.walk(work)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static int arg(String[] args, int i, int dflt) {
        return args.length > i ? Integer.parseInt(args[i]) : dflt;
    }
}
