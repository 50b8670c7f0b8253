package io.flashllm.predictor.train;

import io.flashllm.predictor.PredictorException;
import io.flashllm.predictor.math.Vec;
import io.flashllm.predictor.math.Workers;

import java.util.SplittableRandom;
import java.util.function.LongConsumer;

/**
 * Trains one layer's predictor: truncated SVD of the layer's gate (or fc1) matrix as the start, so
 * B(Ax) begins as the best rank-r approximation of the true pre-activation, then Adam on a
 * recall-weighted binary cross-entropy over mini-batches of the training tokens. After every epoch
 * the threshold is tuned on the held-out tokens to the target recall and the epoch whose predictor
 * then selects the fewest neurons is kept.
 */
public final class LayerTrainer {
    private static final float BETA1 = 0.9f;
    private static final float BETA2 = 0.999f;
    private static final float EPS = 1e-8f;
    /** Calibration tokens the activation-aware SVD start looks at. */
    private static final int SVD_TOKENS = 1024;

    /** What training produced and how it does on held-out tokens. */
    public record Outcome(LowRank predictor, ThresholdTuner.Tuned heldOut, ThresholdTuner.Tuned initial, int bestEpoch,
                          int trainTokens, int heldOutTokens, double finalLoss, long svdMillis, long trainMillis) {}

    private final TrainOptions options;
    private final Workers workers;

    public LayerTrainer(TrainOptions options, Workers workers) {
        this.options = options;
        this.workers = workers;
    }

    /** Adam steps {@code train} will take for {@code records} tokens (for progress bars). */
    public long steps(int records) {
        int train = records - heldOut(records);
        return (long) options.epochs() * ((train + options.batchSize() - 1) / options.batchSize());
    }

    private int heldOut(int records) {
        return (int) Math.max(1, Math.round(records * options.heldOutFraction()));
    }

    /**
     * @param init            the layer's gate or fc1 matrix for the SVD start; null starts from random
     * @param initBias        fc1 bias (OPT) added to the start's scores; null for none
     * @param fireThreshold   pre-activation above which a neuron fires (0, or FATReLU's threshold)
     * @param onStep          told after every Adam step (progress)
     */
    public Outcome train(LayerData data, MatrixRows init, float[] initBias, float fireThreshold, LongConsumer onStep) {
        int count = data.count();
        int hold = heldOut(count);
        int trainN = count - hold;
        if (trainN < 1 || count < 2) {
            throw new PredictorException(null, "only " + count + " calibration tokens: at least 2 are needed (more than a"
                    + " few hundred for a useful predictor)");
        }
        int d = data.dim();
        int n = data.neurons();
        int r = Math.min(options.rank(), Math.min(d, n));
        LowRank p = new LowRank(d, n, r);
        long t0 = System.nanoTime();
        TrainOptions.Init mode = init == null ? TrainOptions.Init.RANDOM : options.init();
        if (mode != TrainOptions.Init.RANDOM) {
            if (init.rows() != n || init.cols() != d) {
                throw new IllegalArgumentException("init matrix is " + init.rows() + "x" + init.cols() + ", the trace is " + n + "x" + d);
            }
            if (mode == TrainOptions.Init.GATE) {
                TruncatedSvd.Result svd = TruncatedSvd.compute(init, r, 10, 2, options.seed(), workers);
                for (int i = 0; i < r; i++) {
                    System.arraycopy(svd.v()[i], 0, p.a, i * d, d);
                    float[] u = svd.u()[i];
                    float s = svd.s()[i];
                    for (int j = 0; j < n; j++) p.b[j * r + i] = u[j] * s;
                }
            } else {
                int m = Math.min(trainN, SVD_TOKENS);
                int rr = Math.min(r, m);
                TruncatedSvd.Result svd = TruncatedSvd.compute(LinearOp.projected(init, data.x(), 0, m), rr, 10, 2, options.seed(), workers);
                float[][] a = LinearOp.of(init).transposeTimes(svd.u(), workers);
                for (int i = 0; i < rr; i++) {
                    System.arraycopy(a[i], 0, p.a, i * d, d);
                    float[] u = svd.u()[i];
                    for (int j = 0; j < n; j++) p.b[j * r + i] = u[j];
                }
            }
            if (initBias != null) System.arraycopy(initBias, 0, p.c, 0, n);
            for (int j = 0; j < n; j++) p.c[j] -= fireThreshold;
            normalizeScale(p, data, trainN);
        } else {
            SplittableRandom rnd = new SplittableRandom(options.seed());
            float sa = (float) (1 / Math.sqrt(d));
            float sb = (float) (1 / Math.sqrt(r));
            for (int i = 0; i < p.a.length; i++) p.a[i] = (float) TruncatedSvd.gaussian(rnd) * sa;
            for (int i = 0; i < p.b.length; i++) p.b[i] = (float) TruncatedSvd.gaussian(rnd) * sb;
        }
        long svdMillis = (System.nanoTime() - t0) / 1_000_000;

        float[] holdScores = new float[hold * n];
        p.scores(data.x(), trainN, hold, holdScores, workers);
        ThresholdTuner.Tuned initial = ThresholdTuner.tune(holdScores, data, trainN, hold, options.targetRecall());
        LowRank best = p.copy();
        best.threshold = initial.threshold();
        ThresholdTuner.Tuned bestTuned = initial;
        int bestEpoch = 0;

        Adam adam = new Adam(p);
        int[] order = new int[trainN];
        for (int i = 0; i < trainN; i++) order[i] = i;
        SplittableRandom rnd = new SplittableRandom(options.seed() ^ 0x5DEECE66DL);
        int mb = Math.min(options.batchSize(), trainN);
        Batch batch = new Batch(mb, d, n, r);
        double loss = Double.NaN;
        long t1 = System.nanoTime();
        for (int epoch = 1; epoch <= options.epochs(); epoch++) {
            for (int i = trainN - 1; i > 0; i--) {
                int k = rnd.nextInt(i + 1);
                int tmp = order[i];
                order[i] = order[k];
                order[k] = tmp;
            }
            double sum = 0;
            int steps = 0;
            for (int from = 0; from < trainN; from += mb) {
                int m = Math.min(mb, trainN - from);
                sum += step(p, adam, data, order, from, m, batch);
                steps++;
                onStep.accept(1);
            }
            loss = sum / steps;
            p.scores(data.x(), trainN, hold, holdScores, workers);
            ThresholdTuner.Tuned tuned = ThresholdTuner.tune(holdScores, data, trainN, hold, options.targetRecall());
            if (tuned.predictedFraction() < bestTuned.predictedFraction()) {
                best = p.copy();
                best.threshold = tuned.threshold();
                bestTuned = tuned;
                bestEpoch = epoch;
            }
        }
        long trainMillis = (System.nanoTime() - t1) / 1_000_000;
        return new Outcome(best, bestTuned, initial, bestEpoch, trainN, hold, loss, svdMillis, trainMillis);
    }

    /** Tunes {@code p}'s threshold again on the held-out tokens (after its weights changed, e.g. by quantization). */
    public ThresholdTuner.Tuned retune(LowRank p, LayerData data) {
        int count = data.count();
        int hold = heldOut(count);
        float[] scores = new float[hold * data.neurons()];
        p.scores(data.x(), count - hold, hold, scores, workers);
        ThresholdTuner.Tuned t = ThresholdTuner.tune(scores, data, count - hold, hold, options.targetRecall());
        p.threshold = t.threshold();
        return t;
    }

    /**
     * Scales the SVD start so its scores have a spread the sigmoid can use: the sign (fires or not)
     * is what the SVD gets right, the raw magnitude of a gate pre-activation is arbitrary.
     */
    private void normalizeScale(LowRank p, LayerData data, int trainN) {
        int m = Math.min(trainN, 256);
        float[] s = new float[m * p.neurons];
        p.scores(data.x(), 0, m, s, workers);
        double sq = 0;
        for (float v : s) sq += (double) v * v;
        double rms = Math.sqrt(sq / s.length);
        if (!(rms > 0) || !Double.isFinite(rms)) return;
        float alpha = (float) (2.0 / rms);
        for (int i = 0; i < p.b.length; i++) p.b[i] *= alpha;
        for (int j = 0; j < p.neurons; j++) p.c[j] *= alpha;
    }

    /** Scratch of one mini-batch, allocated once per layer. */
    private static final class Batch {
        final float[] x;
        final float[] h;
        final float[] g;
        final float[] dh;
        final double[] loss;
        final float[] ga;
        final float[] gb;
        final float[] gc;

        Batch(int mb, int d, int n, int r) {
            x = new float[mb * d];
            h = new float[mb * r];
            g = new float[mb * n];
            dh = new float[mb * r];
            loss = new double[mb];
            ga = new float[r * d];
            gb = new float[n * r];
            gc = new float[n];
        }
    }

    /** One Adam step on tokens {@code order[from..from+m)}; returns the batch's mean loss per token. */
    private double step(LowRank p, Adam adam, LayerData data, int[] order, int from, int m, Batch bt) {
        int d = p.dim;
        int n = p.neurons;
        int r = p.rank;
        float w = options.positiveWeight();
        float inv = 1f / m;
        for (int t = 0; t < m; t++) System.arraycopy(data.x(), order[from + t] * d, bt.x, t * d, d);
        workers.forRange(m, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                p.project(bt.x, t * d, bt.h, t * r);
                int rec = order[from + t];
                double l = 0;
                int go = t * n;
                for (int j = 0; j < n; j++) {
                    float s = Vec.dot(p.b, j * r, bt.h, t * r, r) + p.c[j];
                    // Weighted BCE: w*y*softplus(-s) + (1-y)*softplus(s); gradient (1-y)sig(s) - w*y*sig(-s).
                    double e = Math.exp(-Math.abs(s));
                    double softplusPos = Math.max(s, 0) + Math.log1p(e);
                    double sig = s >= 0 ? 1 / (1 + e) : e / (1 + e);
                    if (data.active(rec, j)) {
                        l += w * (softplusPos - s);
                        bt.g[go + j] = (float) (-w * (1 - sig)) * inv;
                    } else {
                        l += softplusPos;
                        bt.g[go + j] = (float) sig * inv;
                    }
                }
                bt.loss[t] = l;
            }
        });
        workers.forRange(n, (j0, j1) -> {
            for (int j = j0; j < j1; j++) {
                java.util.Arrays.fill(bt.gb, j * r, (j + 1) * r, 0f);
                float gc = 0;
                for (int t = 0; t < m; t++) {
                    float g = bt.g[t * n + j];
                    gc += g;
                    Vec.axpy(g, bt.h, t * r, bt.gb, j * r, r);
                }
                bt.gc[j] = gc;
            }
        });
        workers.forRange(m, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                java.util.Arrays.fill(bt.dh, t * r, (t + 1) * r, 0f);
                int go = t * n;
                for (int j = 0; j < n; j++) Vec.axpy(bt.g[go + j], p.b, j * r, bt.dh, t * r, r);
            }
        });
        workers.forRange(r, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                java.util.Arrays.fill(bt.ga, i * d, (i + 1) * d, 0f);
                for (int t = 0; t < m; t++) Vec.axpy(bt.dh[t * r + i], bt.x, t * d, bt.ga, i * d, d);
            }
        });
        adam.update(p, bt.ga, bt.gb, bt.gc, options.learningRate(), workers);
        double sum = 0;
        for (int t = 0; t < m; t++) sum += bt.loss[t];
        return sum / m;
    }

    /** Adam moments for A, B and c. */
    private static final class Adam {
        final float[] ma;
        final float[] va;
        final float[] mbm;
        final float[] vb;
        final float[] mc;
        final float[] vc;
        int t;
        // Adam moves every parameter by about the step size whatever its gradient's scale, so the
        // step is taken relative to each tensor's typical magnitude: a fine-tune of a good start
        // then perturbs A, B and c alike by about lr of their size per step.
        final float scaleA;
        final float scaleB;
        final float scaleC;

        Adam(LowRank p) {
            scaleA = rms(p.a);
            scaleB = rms(p.b);
            scaleC = Math.max(rms(p.c), Math.max(scaleA, scaleB));
            ma = new float[p.a.length];
            va = new float[p.a.length];
            mbm = new float[p.b.length];
            vb = new float[p.b.length];
            mc = new float[p.c.length];
            vc = new float[p.c.length];
        }

        void update(LowRank p, float[] ga, float[] gb, float[] gc, float lr, Workers workers) {
            t++;
            float c1 = (float) (1 - Math.pow(BETA1, t));
            float c2 = (float) (1 - Math.pow(BETA2, t));
            float step = lr * (float) Math.sqrt(c2) / c1;
            apply(p.a, ga, ma, va, step * scaleA, workers);
            apply(p.b, gb, mbm, vb, step * scaleB, workers);
            apply(p.c, gc, mc, vc, step * scaleC, workers);
        }

        private static float rms(float[] v) {
            double s = 0;
            for (float x : v) s += (double) x * x;
            double r = Math.sqrt(s / Math.max(1, v.length));
            return r > 0 && Double.isFinite(r) ? (float) r : 1f;
        }

        private static void apply(float[] w, float[] g, float[] m, float[] v, float step, Workers workers) {
            workers.forRange(w.length, (i0, i1) -> {
                for (int i = i0; i < i1; i++) {
                    float gi = g[i];
                    m[i] = BETA1 * m[i] + (1 - BETA1) * gi;
                    v[i] = BETA2 * v[i] + (1 - BETA2) * gi * gi;
                    w[i] -= step * m[i] / ((float) Math.sqrt(v[i]) + EPS);
                }
            });
        }
    }
}
