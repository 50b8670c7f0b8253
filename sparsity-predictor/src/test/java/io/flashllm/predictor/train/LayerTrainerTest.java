package io.flashllm.predictor.train;

import io.flashllm.predictor.math.Workers;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LayerTrainerTest {
    /**
     * A separable problem shaped like a ReLU FFN: gate W (n x d) of rank 6 plus a little noise,
     * inputs x with a few strong directions, a neuron active when W_j x > 1.2 (FATReLU-like: ~15%).
     */
    static final class Problem {
        final int d = 32;
        final int n = 160;
        final float fire = 1.2f;
        final float[] w = new float[n * d];
        final LayerData data;

        Problem(long seed, int count) {
            Random r = new Random(seed);
            int k = 6;
            float[][] p = new float[k][d];
            float[][] q = new float[n][k];
            for (float[] row : p) for (int i = 0; i < d; i++) row[i] = (float) r.nextGaussian() / (float) Math.sqrt(d);
            for (float[] row : q) for (int i = 0; i < k; i++) row[i] = (float) r.nextGaussian();
            for (int j = 0; j < n; j++) {
                for (int c = 0; c < d; c++) {
                    float v = (float) r.nextGaussian() * 0.01f;
                    for (int i = 0; i < k; i++) v += q[j][i] * p[i][c];
                    w[j * d + c] = v;
                }
            }
            float[] x = new float[count * d];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() * 1.5f;
            int words = (n + 63) / 64;
            long[] masks = new long[count * words];
            for (int t = 0; t < count; t++) {
                for (int j = 0; j < n; j++) {
                    double pre = 0;
                    for (int c = 0; c < d; c++) pre += (double) w[j * d + c] * x[t * d + c];
                    if (pre > fire) masks[t * words + (j >>> 6)] |= 1L << (j & 63);
                }
            }
            data = new LayerData(d, n, count, x, masks);
        }
    }

    @Test
    void svdStartedTrainingReachesTheTargetRecallWithFewFalsePositives() {
        Problem pb = new Problem(21, 1500);
        TrainOptions o = TrainOptions.defaults().withRank(8).withEpochs(4).withBatchSize(64).withTargetRecall(0.99);
        try (Workers w = new Workers(2)) {
            long[] steps = {0};
            LayerTrainer.Outcome out = new LayerTrainer(o, w).train(pb.data, MatrixRows.of(pb.w, pb.n, pb.d), null, pb.fire,
                    s -> steps[0] += s);
            assertEquals(new LayerTrainer(o, w).steps(1500), steps[0]);
            assertEquals(300, out.heldOutTokens());
            assertTrue(out.heldOut().recall() >= 0.99, "recall " + out.heldOut().recall());
            assertTrue(out.heldOut().precision() > 0.85, "precision " + out.heldOut().precision());
            assertTrue(out.heldOut().predictedFraction() < 1.25 * out.heldOut().trueFraction(),
                    "predicted " + out.heldOut().predictedFraction() + " vs true " + out.heldOut().trueFraction());
            assertTrue(out.heldOut().trueFraction() > 0.05 && out.heldOut().trueFraction() < 0.4);
        }
    }

    @Test
    void trainingFromRandomLearnsTheProblem() {
        Problem pb = new Problem(22, 3000);
        TrainOptions o = TrainOptions.defaults().withRank(8).withEpochs(25).withBatchSize(64).withLearningRate(1e-2f)
                .withTargetRecall(0.95);
        try (Workers w = new Workers(2)) {
            LayerTrainer.Outcome out = new LayerTrainer(o, w).train(pb.data, null, null, pb.fire, s -> {});
            assertTrue(out.heldOut().recall() >= 0.95);
            // A random predictor must select almost everything to reach 95% recall; a trained one far less.
            assertTrue(out.initial().predictedFraction() > 0.7, "initial " + out.initial().predictedFraction());
            assertTrue(out.heldOut().predictedFraction() < 2 * out.heldOut().trueFraction(),
                    "predicted " + out.heldOut().predictedFraction() + " vs true " + out.heldOut().trueFraction());
            assertTrue(out.bestEpoch() > 0);
        }
    }

    /** Full-rank random gate, inputs confined to a few directions: the gate's own SVD is a poor start. */
    static LayerData anisotropic(long seed, int d, int n, int latent, int count, float[] w, float fire) {
        Random r = new Random(seed);
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() / Math.sqrt(d));
        float[] m = new float[d * latent];
        for (int i = 0; i < m.length; i++) m[i] = (float) r.nextGaussian();
        float[] x = new float[count * d];
        int words = (n + 63) / 64;
        long[] masks = new long[count * words];
        for (int t = 0; t < count; t++) {
            float[] z = new float[latent];
            for (int i = 0; i < latent; i++) z[i] = (float) r.nextGaussian();
            for (int c = 0; c < d; c++) {
                float v = 0;
                for (int i = 0; i < latent; i++) v += m[c * latent + i] * z[i];
                x[t * d + c] = v / (float) Math.sqrt(latent);
            }
            for (int j = 0; j < n; j++) {
                double pre = 0;
                for (int c = 0; c < d; c++) pre += (double) w[j * d + c] * x[t * d + c];
                if (pre > fire) masks[t * words + (j >>> 6)] |= 1L << (j & 63);
            }
        }
        return new LayerData(d, n, count, x, masks);
    }

    @Test
    void adamImprovesAPoorStartAndActivationAwareSvdStartsWell() {
        int d = 64;
        int n = 256;
        float[] w = new float[n * d];
        LayerData data = anisotropic(24, d, n, 6, 1500, w, 1.2f);
        TrainOptions o = TrainOptions.defaults().withRank(8).withEpochs(8).withLearningRate(3e-2f);
        try (Workers workers = new Workers(2)) {
            LayerTrainer.Outcome gate = new LayerTrainer(o.withInit(TrainOptions.Init.GATE), workers)
                    .train(data, MatrixRows.of(w, n, d), null, 1.2f, s -> {});
            assertTrue(gate.heldOut().recall() >= 0.99);
            assertTrue(gate.bestEpoch() > 0);
            assertTrue(gate.heldOut().predictedFraction() < 0.8 * gate.initial().predictedFraction(),
                    "Adam: " + gate.initial().predictedFraction() + " -> " + gate.heldOut().predictedFraction());
            LayerTrainer.Outcome act = new LayerTrainer(o.withEpochs(0), workers).train(data, MatrixRows.of(w, n, d), null, 1.2f, s -> {});
            // Inputs span 6 directions and the rank is 8: the activation-aware start is already almost exact.
            assertTrue(act.heldOut().predictedFraction() < 1.1 * act.heldOut().trueFraction(),
                    "activation-aware start " + act.heldOut().predictedFraction() + " vs true " + act.heldOut().trueFraction());
            assertTrue(act.heldOut().predictedFraction() < gate.initial().predictedFraction());
        }
    }

    @Test
    void tooFewTokensIsAClearError() {
        Problem pb = new Problem(23, 1);
        try (Workers w = new Workers(1)) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(io.flashllm.predictor.PredictorException.class,
                    () -> new LayerTrainer(TrainOptions.defaults().withRank(4), w).train(pb.data, null, null, 0f, s -> {}));
            assertTrue(e.getMessage().contains("calibration tokens"));
        }
    }
}
