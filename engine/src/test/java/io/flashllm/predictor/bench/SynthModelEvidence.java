package io.flashllm.predictor.bench;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.model.FeedForwardFactory;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.model.OpenedModelFile;
import io.flashllm.engine.model.Transformer;
import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthArch;
import io.flashllm.engine.synth.SynthFormat;
import io.flashllm.engine.synth.SynthResult;
import io.flashllm.engine.synth.SynthSpec;
import io.flashllm.engine.synth.SynthType;
import io.flashllm.flashstore.ffn.DenseFfnLayer;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.predictor.calibrate.BundleCalibration;
import io.flashllm.predictor.calibrate.CalibrationTable;
import io.flashllm.predictor.calibrate.PredictorTraining;
import io.flashllm.predictor.calibrate.ProgressBar;
import io.flashllm.predictor.calibrate.RankPlan;
import io.flashllm.predictor.eval.Perplexity;
import io.flashllm.predictor.eval.SelectedFeedForward;
import io.flashllm.predictor.eval.TokenAgreement;
import io.flashllm.predictor.eval.WindowSimulator;
import io.flashllm.predictor.format.PredictorFileWriter;
import io.flashllm.predictor.format.PredictorFormat;
import io.flashllm.predictor.format.PredictorSet;
import io.flashllm.predictor.format.PredictorStore;
import io.flashllm.predictor.math.Workers;
import io.flashllm.predictor.runtime.PredictedSelector;
import io.flashllm.predictor.runtime.QualityCounters;
import io.flashllm.predictor.runtime.QualitySampler;
import io.flashllm.predictor.trace.ActivationOracle;
import io.flashllm.predictor.trace.TraceFormat;
import io.flashllm.predictor.trace.TraceRecorder;
import io.flashllm.predictor.train.TrainOptions;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Evidence for the predictor on a synthetic ReLU Llama run by the real engine (not a unit test: a
 * program that prints figures). Synthesizes the model, records calibration traces from text the
 * model samples itself, trains and stores the predictors, then compares predicted against dense:
 * held-out recall/precision, production-style sampled quality, greedy token agreement, perplexity,
 * the predictor's share of token time and the window sweep of FFN bytes read.
 *
 * <pre>java ... io.flashllm.predictor.bench.SynthModelEvidence [dim layers ffn rank calibTokens epochs agreeSteps sparsity]</pre>
 */
public final class SynthModelEvidence {
    private SynthModelEvidence() {}

    public static void main(String[] args) throws IOException {
        int dim = arg(args, 0, 512);
        int layers = arg(args, 1, 8);
        int ffn = arg(args, 2, 2048);
        int rank = arg(args, 3, 128);
        int calib = arg(args, 4, 2048);
        int epochs = arg(args, 5, 4);
        int agree = arg(args, 6, 512);
        float sparsity = args.length > 7 ? Float.parseFloat(args[7]) : 0.9f;
        int ctx = 512;
        Path work = Files.createTempDirectory("predictor-evidence");
        try (Workers workers = new Workers(2)) {
            int prompt = 16;
            SynthSpec spec = new SynthSpec(SynthArch.LLAMA_RELU, dim, layers, 8, 4, ffn, 2000, SynthType.Q8_0, SynthFormat.GGUF, 7L,
                    sparsity, Math.max(ctx, prompt + agree), "evidence");
            SynthResult synth = Synth.synthesize(spec, work.resolve("m.gguf"), 2);
            System.out.printf("model: synth llama-relu dim %d, %d layers, ffn %d, Q8_0, FATReLU threshold %s (%.0f%% of gate"
                    + " pre-activations below it); %.1f MiB%n", dim, layers, ffn, synth.fatreluThreshold(), 100 * sparsity,
                    synth.bytes() / 1048576.0);
            LoadOptions opts = LoadOptions.defaults().withThreads(2).withMaxContext(Math.max(ctx, prompt + agree));
            Path traces = work.resolve("traces");

            // 1. Record: the model samples its own calibration text (temperature 1) while the recorder logs FFN inputs.
            ActivationOracle[] oracle = new ActivationOracle[1];
            TraceRecorder[] rec = new TraceRecorder[1];
            FeedForwardFactory recording = (config, weights, parallel) -> {
                List<WeightTensor> gates = weights.ffn().stream().map(DenseFfnLayer::gate).toList();
                oracle[0] = new ActivationOracle(gates, null, config.activation());
                rec[0] = new TraceRecorder(FeedForwardFactory.DENSE.create(config, weights, parallel), oracle[0], traces,
                        TraceFormat.XType.F16, 64, workers);
                return rec[0];
            };
            long cpu0 = cpuNanos();
            long t0 = System.nanoTime();
            try (LanguageModel lm = ModelLoader.assemble(OpenedModelFile.open(synth.path()), opts, recording);
                 ProgressBar bar = new ProgressBar(System.err, "recording", calib, "tok")) {
                sample(lm, calib, ctx, 11, bar);
                rec[0].finish();
            }
            System.out.printf("recording %d tokens: %.1f s wall, %.1f s CPU%n", calib, (System.nanoTime() - t0) / 1e9,
                    (cpuNanos() - cpu0) / 1e9);

            // 2. Train and store.
            cpu0 = cpuNanos();
            TrainOptions topts = TrainOptions.defaults().withRank(rank).withEpochs(epochs);
            try (LanguageModel lm = ModelLoader.loadLanguageModel(synth.path(), opts)) {
                List<WeightTensor> gates = lm.weights().ffn().stream().map(DenseFfnLayer::gate).toList();
                oracle[0] = new ActivationOracle(gates, null, lm.config().activation());
                PredictorTraining.Result res = PredictorTraining.train(traces, oracle[0], lm.config().activation(),
                        RankPlan.uniform(layers, rank), topts, PredictorFormat.WeightType.Q8, workers, System.err);
                System.out.print(CalibrationTable.format(res.reports()));
                System.out.printf("training: %.1f s wall, %.1f s CPU (rank %d, %d epochs, Q8 storage)%n", res.millis() / 1e3,
                        (cpuNanos() - cpu0) / 1e9, rank, epochs);
                List<Path> files = new ArrayList<>();
                for (PredictorStore.Entry e : res.entries()) {
                    Path f = work.resolve("layer-" + e.layer() + ".bin");
                    PredictorFileWriter.write(f, e.layer(), e.predictor(), PredictorFormat.WeightType.Q8, e.stats());
                    files.add(f);
                }
                int heldOutFrom = res.reports().getFirst().trainTokens();

                // 3. Predicted vs dense on fresh text the dense model samples (a different seed).
                try (PredictorSet set = PredictorSet.openFiles(files, "evidence");
                     LanguageModel dense = ModelLoader.loadLanguageModel(synth.path(), opts)) {
                    QualitySampler sampler = new QualitySampler(oracle[0], 0.05, 5);
                    PredictedSelector sel = new PredictedSelector(set, sampler);
                    FeedForwardFactory predictedFfn = (config, weights, parallel) ->
                            new SelectedFeedForward(config.activation(), weights.ffn(), sel, parallel);
                    try (LanguageModel predicted = ModelLoader.assemble(OpenedModelFile.open(synth.path()), opts, predictedFfn)) {
                        int[] text = sample(dense, 1024, ctx, 23, null);
                        long td = System.nanoTime();
                        Perplexity.Result pd = Perplexity.compute(len -> dense.newTransformer(len)::forward, text, ctx);
                        double denseMs = (System.nanoTime() - td) / 1e6 / pd.tokens();
                        long calls0 = sel.nanos().sum();
                        long tp = System.nanoTime();
                        Perplexity.Result pp = Perplexity.compute(len -> predicted.newTransformer(len)::forward, text, ctx);
                        double predMs = (System.nanoTime() - tp) / 1e6 / pp.tokens();
                        double predictorMs = (sel.nanos().sum() - calls0) / 1e6 / pp.tokens();
                        System.out.printf("perplexity over %d sampled tokens: dense %.4f, predicted %.4f (%+.2f%%)%n", pd.tokens(),
                                pd.perplexity(), pp.perplexity(), 100 * (pp.perplexity() / pd.perplexity() - 1));
                        System.out.printf("token time: dense %.2f ms, predicted (FFN over selected neurons) %.2f ms, of which"
                                + " predictor %.3f ms = %.1f%% of the predicted token, %.1f%% of the dense token%n", denseMs, predMs,
                                predictorMs, 100 * predictorMs / predMs, 100 * predictorMs / denseMs);
                        try (Transformer a = dense.newTransformer(prompt + agree); Transformer b = predicted.newTransformer(prompt + agree)) {
                            TokenAgreement.Result ag = TokenAgreement.compare(a::forward, b::forward,
                                    java.util.Arrays.copyOf(text, prompt), agree);
                            System.out.printf("greedy token agreement over %d tokens: %.2f%% (first disagreement at step %d)%n",
                                    ag.steps(), 100 * ag.rate(), ag.firstDisagreement());
                        }
                        QualityCounters.Snapshot q = sampler.total().snapshot();
                        if (Boolean.getBoolean("evidence.control")) control(synth.path(), opts, gates, lm.config().activation(),
                                1 - q.recall(), text, ctx, prompt, agree, pd);
                        System.out.printf("production quality sampler (rate 5%%): %d checks, recall %.4f, precision %.4f,"
                                + " false-negative mass %.4f%n", q.samples(), q.recall(), q.precision(), q.falseNegativeMass());
                        System.out.printf("fraction of neurons predicted active: %.2f%%%n",
                                100.0 * sel.selected().sum() / sel.considered().sum());
                    }
                    int k = BundleCalibration.SWEEP_MAX_WINDOW;
                    System.out.print(CalibrationTable.formatWindows(
                            WindowSimulator.simulate(traces, layers, new PredictedSelector(set, null), heldOutFrom, k, k),
                            WindowSimulator.simulate(traces, layers, null, heldOutFrom, k, k)));
                }
            }
        } finally {
            try (Stream<Path> s = Files.walk(work)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    /**
     * How fragile the model's outputs are: exact selection (gate-exact) with each truly active
     * neuron dropped at random at the predictor's measured false-negative rate. Agreement and
     * perplexity of this control against dense are the floor any predictor with that recall meets.
     */
    static void control(Path model, LoadOptions opts, List<WeightTensor> gates, io.flashllm.flashstore.ffn.FfnActivation act,
                        double dropRate, int[] text, int ctx, int prompt, int agree, Perplexity.Result dense) {
        io.flashllm.flashstore.select.GateExactSelector exact = new io.flashllm.flashstore.select.GateExactSelector(gates, act);
        Random r = new Random(99);
        io.flashllm.flashstore.select.Selection full = new io.flashllm.flashstore.select.Selection(gates.getFirst().rows());
        io.flashllm.flashstore.select.NeuronSelector drop = new io.flashllm.flashstore.select.NeuronSelector() {
            @Override
            public String name() {
                return "exact-with-drops";
            }

            @Override
            public void select(int layer, float[] x, io.flashllm.flashstore.select.Selection out) {
                full.clear();
                exact.select(layer, x, full);
                for (int i = 0; i < full.count(); i++) if (r.nextDouble() >= dropRate) out.add(full.neurons()[i]);
            }

            @Override
            public boolean needsResidentGate() {
                return true;
            }
        };
        FeedForwardFactory f = (config, weights, parallel) -> new SelectedFeedForward(config.activation(), weights.ffn(), drop, parallel);
        FeedForwardFactory ex = (config, weights, parallel) -> new SelectedFeedForward(config.activation(), weights.ffn(), exact, parallel);
        try (LanguageModel m = ModelLoader.assemble(OpenedModelFile.open(model), opts, f);
             LanguageModel e = ModelLoader.assemble(OpenedModelFile.open(model), opts, ex);
             LanguageModel d = ModelLoader.loadLanguageModel(model, opts)) {
            Perplexity.Result pc = Perplexity.compute(len -> m.newTransformer(len)::forward, text, ctx);
            System.out.printf("control, exact selection dropping %.2f%% of active neurons at random: perplexity %.4f (%+.2f%%)%n",
                    100 * dropRate, pc.perplexity(), 100 * (pc.perplexity() / dense.perplexity() - 1));
            try (Transformer a = d.newTransformer(prompt + agree); Transformer b = m.newTransformer(prompt + agree)) {
                TokenAgreement.Result ag = TokenAgreement.compare(a::forward, b::forward, java.util.Arrays.copyOf(text, prompt), agree);
                System.out.printf("control greedy agreement: %.2f%% (first disagreement at step %d)%n", 100 * ag.rate(),
                        ag.firstDisagreement());
            }
            try (Transformer a = d.newTransformer(prompt + agree); Transformer b = e.newTransformer(prompt + agree)) {
                TokenAgreement.Result ag = TokenAgreement.compare(a::forward, b::forward, java.util.Arrays.copyOf(text, prompt), agree);
                System.out.printf("sanity, exact selection (gate-exact) vs dense: agreement %.2f%%%n", 100 * ag.rate());
            }
        }
    }

    /** Samples {@code n} tokens at temperature 1 from token 1, in windows of {@code ctx}; returns them (with the start token). */
    static int[] sample(LanguageModel lm, int n, int ctx, long seed, ProgressBar bar) {
        Random r = new Random(seed);
        int[] out = new int[n];
        int token = 1;
        int i = 0;
        while (i < n) {
            try (Transformer t = lm.newTransformer(ctx)) {
                for (int pos = 0; pos < ctx && i < n; pos++) {
                    out[i++] = token;
                    float[] logits = t.forward(token, pos);
                    token = draw(logits, r);
                    if (bar != null) bar.advance(1);
                }
            }
            token = 1;
        }
        return out;
    }

    static int draw(float[] logits, Random r) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double sum = 0;
        for (float v : logits) sum += Math.exp(v - max);
        double u = r.nextDouble() * sum;
        for (int i = 0; i < logits.length; i++) {
            u -= Math.exp(logits[i] - max);
            if (u <= 0) return i;
        }
        return logits.length - 1;
    }

    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static int arg(String[] args, int i, int dflt) {
        return args.length > i ? Integer.parseInt(args[i]) : dflt;
    }
}
