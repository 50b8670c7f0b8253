package io.flashllm.predictor.calibrate;

import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.predictor.PredictorException;
import io.flashllm.predictor.format.PredictorFormat;
import io.flashllm.predictor.format.PredictorStats;
import io.flashllm.predictor.format.PredictorStore;
import io.flashllm.predictor.math.Workers;
import io.flashllm.predictor.trace.ActivationOracle;
import io.flashllm.predictor.trace.TraceFormat;
import io.flashllm.predictor.trace.TraceReader;
import io.flashllm.predictor.train.LayerData;
import io.flashllm.predictor.train.LayerTrainer;
import io.flashllm.predictor.train.MatrixRows;
import io.flashllm.predictor.train.TrainOptions;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Trains every layer's predictor from a directory of traces, one layer in memory at a time, with
 * a progress bar over all Adam steps of all layers.
 */
public final class PredictorTraining {
    /** The predictors ready for {@link PredictorStore#write} and the table rows. */
    public record Result(List<PredictorStore.Entry> entries, List<LayerReport> reports, long millis) {}

    private PredictorTraining() {}

    /**
     * @param oracle   the layer matrices for the SVD start and the firing rule; null starts from random
     *                 (then {@code activation} gives the firing threshold)
     * @param progress where the progress bar goes (stderr), or null
     */
    public static Result train(Path traceDir, ActivationOracle oracle, FfnActivation activation, RankPlan plan, TrainOptions base,
                               PredictorFormat.WeightType type, Workers workers, PrintStream progress) {
        long t0 = System.nanoTime();
        int layers = plan.layers();
        if (oracle != null && oracle.layers() != layers) {
            throw new IllegalArgumentException("rank plan covers " + layers + " layers, the model has " + oracle.layers());
        }
        long total = 0;
        int[] counts = new int[layers];
        for (int l = 0; l < layers; l++) {
            try (TraceReader r = TraceReader.open(traceDir.resolve(TraceFormat.layerFile(l)))) {
                if (r.header().layer() != l) throw new PredictorException(r.file(), "holds layer " + r.header().layer() + ", expected " + l);
                counts[l] = (int) Math.min(r.records(), base.maxRecords() > 0 ? base.maxRecords() : Integer.MAX_VALUE);
                if (counts[l] < 2) {
                    throw new PredictorException(r.file(), "holds " + r.records() + " tokens; calibration needs more text");
                }
                total += new LayerTrainer(base.withRank(plan.rank(l)), workers).steps(counts[l]);
            }
        }
        float fire = activation.kind() == FfnActivation.Kind.GATED_FATRELU ? activation.threshold() : 0f;
        List<PredictorStore.Entry> entries = new ArrayList<>();
        List<LayerReport> reports = new ArrayList<>();
        try (ProgressBar bar = new ProgressBar(progress, "training", total, "steps")) {
            for (int l = 0; l < layers; l++) {
                bar.status("layer " + (l + 1) + "/" + layers + " (loading, SVD)");
                LayerData data;
                try (TraceReader r = TraceReader.open(traceDir.resolve(TraceFormat.layerFile(l)))) {
                    data = LayerData.read(r, counts[l]);
                }
                TrainOptions opts = base.withRank(plan.rank(l));
                LayerTrainer trainer = new LayerTrainer(opts, workers);
                WeightTensor w = oracle == null ? null : oracle.matrices().acquire(l);
                LayerTrainer.Outcome o;
                try {
                    int layer = l;
                    final boolean[] announced = {false};
                    o = trainer.train(data, w == null ? null : MatrixRows.of(w), oracle == null ? null : oracle.matrices().bias(l), fire,
                            n -> {
                                if (!announced[0]) {
                                    announced[0] = true;
                                    bar.status("layer " + (layer + 1) + "/" + layers);
                                }
                                bar.advance(n);
                            });
                } finally {
                    if (w != null) oracle.matrices().release(l);
                }
                var h = o.heldOut();
                if (type != PredictorFormat.WeightType.F32) {
                    o.predictor().roundTrip(type);
                    h = trainer.retune(o.predictor(), data);
                }
                PredictorStats stats = new PredictorStats((float) h.recall(), (float) h.precision(), (float) h.predictedFraction(),
                        (float) h.trueFraction(), (float) opts.targetRecall(), o.trainTokens(), o.heldOutTokens());
                entries.add(new PredictorStore.Entry(l, o.predictor(), stats));
                reports.add(new LayerReport(l, o.predictor().rank, h.recall(), h.precision(), h.predictedFraction(), h.trueFraction(),
                        fileBytes(data.dim(), data.neurons(), o.predictor().rank, type), o.trainTokens(), o.heldOutTokens(),
                        o.bestEpoch(), o.initial().predictedFraction(), o.svdMillis(), o.trainMillis()));
            }
        }
        return new Result(entries, reports, (System.nanoTime() - t0) / 1_000_000);
    }

    /** Size of a predictor file of this shape. */
    public static long fileBytes(int dim, int neurons, int rank, PredictorFormat.WeightType type) {
        long a = PredictorFormat.HEADER_BYTES;
        a = (a + 63) / 64 * 64 + (long) rank * dim * type.bytes;
        a = (a + 63) / 64 * 64 + (long) neurons * rank * type.bytes;
        a = (a + 63) / 64 * 64 + 4L * neurons;
        return a;
    }
}
