package io.flashllm.predictor.calibrate;

import io.flashllm.flashstore.bundle.BundleModel;
import io.flashllm.flashstore.bundle.BundleOpenOptions;
import io.flashllm.predictor.PredictorException;
import io.flashllm.predictor.bundle.BundleOracles;
import io.flashllm.predictor.eval.WindowSimulator;
import io.flashllm.predictor.format.PredictorFormat;
import io.flashllm.predictor.format.PredictorSet;
import io.flashllm.predictor.format.PredictorStore;
import io.flashllm.predictor.math.Workers;
import io.flashllm.predictor.runtime.PredictedSelector;
import io.flashllm.predictor.trace.ActivationOracle;
import io.flashllm.predictor.trace.TraceFormat;
import io.flashllm.predictor.trace.TraceRecorder;
import io.flashllm.predictor.train.TrainOptions;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * {@code flashllm calibrate} for a bundle in one call: opens the bundle dense, wraps its FFN in a
 * {@link TraceRecorder}, lets the caller run the model over the calibration tokens (the engine
 * builds the transformer around the recorder), trains every layer's predictor, writes them into
 * the bundle (manifest replaced atomically) and returns the table rows, with the window sweep of
 * the held-out tokens: what the stored predictors, and exact selection, would read from flash.
 */
public final class BundleCalibration {
    /** Runs the model, whose FFN is {@code ffn}, over the calibration tokens (e.g. with {@link Calibrator#runPrefill}). */
    @FunctionalInterface
    public interface ModelRun {
        void run(BundleModel bundle, TraceRecorder ffn);
    }

    /**
     * @param traceDir   where traces go (a temporary directory when null); deleted afterwards unless kept
     * @param keepTraces keep the traces (for {@code WindowSimulator} or a second training run)
     */
    public record Options(RankPlan ranks, TrainOptions training, PredictorFormat.WeightType storage, TraceFormat.XType traceType,
                          Path traceDir, boolean keepTraces, int threads) {
        public static Options defaults(RankPlan ranks) {
            return new Options(ranks, TrainOptions.defaults(), PredictorFormat.WeightType.Q8, TraceFormat.XType.F16, null, false, 2);
        }
    }

    /** Largest window of the sweep (DESIGN.md's default window is 5). */
    public static final int SWEEP_MAX_WINDOW = 8;

    /**
     * What was stored and how each layer did. {@code predictedWindows} and {@code exactWindows}:
     * the held-out tokens replayed with the stored predictors and with the recorded true masks: FFN
     * bytes read per token ÷ dense, and the share of neurons the window keeps in DRAM, for a window
     * of k = 0..{@value #SWEEP_MAX_WINDOW} tokens with no limit on its size.
     */
    public record Result(String generation, PredictorTraining.Result training, Path traceDir,
                         WindowSimulator.Result predictedWindows, WindowSimulator.Result exactWindows) {}

    private BundleCalibration() {}

    public static Result run(Path bundleDir, Options o, ModelRun model, PrintStream progress) {
        return run(bundleDir, BundleOpenOptions.defaults(), o, model, progress);
    }

    /**
     * @param open how to open the bundle (memory budget, I/O threads...); its selector is replaced
     *             by dense, since calibration needs the exact FFN
     */
    public static Result run(Path bundleDir, BundleOpenOptions open, Options o, ModelRun model, PrintStream progress) {
        Path traces;
        try {
            traces = o.traceDir() != null ? o.traceDir() : Files.createTempDirectory("flashllm-traces");
        } catch (IOException e) {
            throw new PredictorException(null, "cannot create a trace directory: " + e.getMessage(), e);
        }
        try (Workers workers = new Workers(o.threads())) {
            PredictorTraining.Result trained;
            try (BundleModel bundle = BundleModel.open(bundleDir, open.withSelector("dense"))) {
                ActivationOracle oracle = BundleOracles.open(bundle);
                if (o.ranks().layers() != oracle.layers()) {
                    throw new PredictorException(bundleDir, "rank plan covers " + o.ranks().layers() + " layers, the model has "
                            + oracle.layers());
                }
                TraceRecorder recorder = new TraceRecorder(bundle.feedForward(), oracle, traces, o.traceType(),
                        TraceFormat.DEFAULT_CHUNK_RECORDS, workers);
                try {
                    model.run(bundle, recorder);
                } finally {
                    recorder.finish();
                }
                trained = PredictorTraining.train(traces, oracle, bundle.activation(), o.ranks(), o.training(), o.storage(), workers,
                        progress);
                oracle.matrices().close();
            }
            String gen = PredictorStore.write(bundleDir, trained.entries(), o.storage());
            // The held-out records are each trace's last ones; the first few fill the window before counting starts.
            int heldOutFrom = trained.reports().getFirst().trainTokens();
            int layers = o.ranks().layers();
            int warmup = Math.min(SWEEP_MAX_WINDOW, Math.max(0, trained.reports().getFirst().heldOutTokens() - 1));
            WindowSimulator.Result predicted;
            try (PredictorSet set = PredictorSet.open(bundleDir); PredictedSelector sel = new PredictedSelector(set, null)) {
                predicted = WindowSimulator.simulate(traces, layers, sel, heldOutFrom, warmup, SWEEP_MAX_WINDOW);
            }
            WindowSimulator.Result exact = WindowSimulator.simulate(traces, layers, null, heldOutFrom, warmup, SWEEP_MAX_WINDOW);
            return new Result(gen, trained, o.keepTraces() ? traces : null, predicted, exact);
        } finally {
            if (!o.keepTraces()) deleteTree(traces);
        }
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        } catch (IOException e) {
            // Leftover traces cost disk space only; the calibration itself succeeded or already failed.
            System.getLogger(BundleCalibration.class.getName()).log(System.Logger.Level.WARNING,
                    "cannot delete the traces in " + p + ": " + e.getMessage());
        }
    }
}
