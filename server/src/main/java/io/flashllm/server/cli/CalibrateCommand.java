package io.flashllm.server.cli;

import io.flashllm.engine.BundleCalibrator;
import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.flashstore.bundle.BundleModel;
import io.flashllm.flashstore.bundle.Manifest;
import io.flashllm.predictor.calibrate.BundleCalibration;
import io.flashllm.predictor.calibrate.CalibrationTable;
import io.flashllm.predictor.calibrate.RankPlan;
import io.flashllm.predictor.format.PredictorFormat;
import io.flashllm.predictor.trace.TraceFormat;
import io.flashllm.predictor.train.TrainOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code flashllm calibrate}: trains the bundle's sparsity predictors (LLM in a flash §3.1) so it
 * can run with {@code --selector predicted}. The calibration text runs through the model with its
 * exact FFN while every layer's inputs and true active neurons are recorded; then a low-rank
 * predictor per layer is trained and stored in the bundle (manifest replaced atomically).
 */
@Command(name = "calibrate", mixinStandardHelpOptions = true,
        description = {"Train the sparsity predictors of a flash bundle (for --selector predicted).",
                "Without --text the model samples its own calibration text. Progress goes to standard error,"
                        + " the per-layer table to standard output."})
public final class CalibrateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Option(names = "--text", paramLabel = "FILE", description = "Calibration text (UTF-8); default: text sampled from the model.")
    Path text;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "2048",
            description = "Calibration tokens (the first N of --text, or N sampled) (default: ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--rank", paramLabel = "R", defaultValue = "128", description = "Predictor rank of every layer (default: ${DEFAULT-VALUE}).")
    int rank;

    @Option(names = "--rank-per-layer", paramLabel = "SPEC",
            description = "Per-layer ranks: one per layer ('128,128,...,1024') or 'layers:rank' items ('*:128,14-15:1024');"
                    + " layers not named get --rank.")
    String rankPerLayer;

    @Option(names = "--target-recall", paramLabel = "R", defaultValue = "0.99",
            description = "Share of truly active neurons the predictors must select on held-out tokens (default: ${DEFAULT-VALUE}).")
    double targetRecall;

    @Option(names = "--epochs", paramLabel = "E", description = "Training passes per layer (default: 6).")
    Integer epochs;

    @Option(names = "--predictor-type", paramLabel = "TYPE", defaultValue = "q8",
            description = "Stored predictor weights: q8, f16 or f32 (default: ${DEFAULT-VALUE}).")
    String predictorType;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Seed of sampling and training (default: ${DEFAULT-VALUE}).")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintStream progress = System.err;
        Path path = model.model;
        if (path == null) throw new CliErrors.UsageException("--model is required (a flash bundle directory made by 'flashllm convert')");
        if (!Files.exists(path)) throw new CliErrors.UsageException("no such model file or directory: " + path);
        if (!BundleModel.isBundle(path)) {
            throw new CliErrors.UsageException(path + " is not a flash bundle; convert it first ('flashllm convert --model "
                    + path + " --out DIR')");
        }
        if (tokens < 16) throw new CliErrors.UsageException("--tokens must be at least 16, got " + tokens);
        if (rank < 1) throw new CliErrors.UsageException("--rank must be at least 1, got " + rank);
        if (!(targetRecall > 0 && targetRecall <= 1)) {
            throw new CliErrors.UsageException("--target-recall must be in (0, 1], got " + targetRecall);
        }
        if (epochs != null && epochs < 0) throw new CliErrors.UsageException("--epochs must not be negative, got " + epochs);
        PredictorFormat.WeightType storage = switch (predictorType.trim().toLowerCase(Locale.ROOT)) {
            case "q8" -> PredictorFormat.WeightType.Q8;
            case "f16" -> PredictorFormat.WeightType.F16;
            case "f32" -> PredictorFormat.WeightType.F32;
            default -> throw new CliErrors.UsageException("--predictor-type must be q8, f16 or f32, not '" + predictorType + "'");
        };
        int layers = Manifest.read(path).model().layers();
        RankPlan plan;
        try {
            plan = RankPlan.parse(rankPerLayer, layers, rank);
        } catch (IllegalArgumentException e) {
            throw new CliErrors.UsageException("--rank-per-layer: " + e.getMessage());
        }
        TrainOptions training = TrainOptions.defaults().withRank(rank).withTargetRecall(targetRecall).withSeed(seed);
        if (epochs != null) training = training.withEpochs(epochs);

        // The model runs exact while calibrating, whatever --selector says.
        LoadOptions load = model.loadOptions();
        load = load.withBundle(load.bundle().withSelector("auto"));
        int[] ids;
        int window;
        long t0 = System.nanoTime();
        try (InferenceModel m = ModelLoader.load(path, load)) {
            window = model.contextFor(m);
            if (text != null) {
                ids = m.tokenize(Files.readString(text, StandardCharsets.UTF_8), true);
                if (ids.length < 16) {
                    throw new CliErrors.UsageException(text + " holds only " + ids.length + " tokens; calibration needs at least 16");
                }
                if (ids.length > tokens) ids = java.util.Arrays.copyOf(ids, tokens);
            } else {
                ids = BundleCalibrator.sampleTokens(m, tokens, window, seed, progress);
            }
        }
        BundleCalibration.Options o = new BundleCalibration.Options(plan, training, storage, TraceFormat.XType.F16, null, false,
                model.threads());
        BundleCalibration.Result r = BundleCalibrator.calibrate(path, load, o, ids, window, progress);
        out.print(CalibrationTable.format(r.training().reports()));
        out.print(CalibrationTable.formatWindows(r.predictedWindows(), r.exactWindows()));
        out.printf(Locale.ROOT, "calibrated %s on %d tokens in %.1f s: predictors %s (%s); run with --selector predicted%n",
                path, ids.length, (System.nanoTime() - t0) / 1e9, r.generation(), storage.name().toLowerCase(Locale.ROOT));
        out.flush();
        return 0;
    }
}
