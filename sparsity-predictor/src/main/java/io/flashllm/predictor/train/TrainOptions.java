package io.flashllm.predictor.train;

/**
 * How a layer predictor is trained.
 *
 * @param rank            rank r of x -> B(Ax)
 * @param epochs          passes over the training tokens (the best epoch on held-out data is kept)
 * @param batchSize       tokens per Adam step
 * @param learningRate    Adam step size, relative to the typical magnitude of each parameter tensor
 * @param positiveWeight  weight of an active neuron's term in the cross-entropy (recall weighting)
 * @param heldOutFraction share of tokens (the last ones) kept out of training for threshold tuning
 * @param targetRecall    share of truly active neurons the tuned threshold must keep
 * @param seed            seed of the SVD's random directions and the batch order
 * @param maxRecords      tokens per layer read from the trace (0 = all)
 * @param init            how the predictor starts (see {@link Init})
 */
public record TrainOptions(int rank, int epochs, int batchSize, float learningRate, float positiveWeight,
                           double heldOutFraction, double targetRecall, long seed, int maxRecords, Init init) {
    /**
     * GATE: truncated SVD of the gate (fc1) matrix W, B = U S and A = V^T. ACTIVATIONS: truncated
     * SVD of W X^T over the calibration inputs X, B = U and A = U^T W, i.e. W projected onto the
     * directions its pre-activations really take (the best rank-r approximation of W x in the
     * least-squares sense over the data). RANDOM: Gaussian start (no matrix needed).
     */
    public enum Init { ACTIVATIONS, GATE, RANDOM }

    public TrainOptions {
        if (rank < 1) throw new IllegalArgumentException("rank must be at least 1, got " + rank);
        if (epochs < 0) throw new IllegalArgumentException("epochs must not be negative");
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1");
        if (!(learningRate > 0)) throw new IllegalArgumentException("learning rate must be positive");
        if (!(positiveWeight > 0)) throw new IllegalArgumentException("positive weight must be positive");
        if (!(heldOutFraction > 0 && heldOutFraction < 1)) throw new IllegalArgumentException("held-out fraction must be in (0, 1)");
        if (!(targetRecall > 0 && targetRecall <= 1)) throw new IllegalArgumentException("target recall must be in (0, 1]");
        if (init == null) init = Init.ACTIVATIONS;
    }

    public static TrainOptions defaults() {
        return new TrainOptions(128, 6, 64, 2e-2f, 4f, 0.2, 0.99, 42, 0, Init.ACTIVATIONS);
    }

    public TrainOptions withRank(int r) {
        return new TrainOptions(r, epochs, batchSize, learningRate, positiveWeight, heldOutFraction, targetRecall, seed, maxRecords, init);
    }

    public TrainOptions withEpochs(int e) {
        return new TrainOptions(rank, e, batchSize, learningRate, positiveWeight, heldOutFraction, targetRecall, seed, maxRecords, init);
    }

    public TrainOptions withTargetRecall(double t) {
        return new TrainOptions(rank, epochs, batchSize, learningRate, positiveWeight, heldOutFraction, t, seed, maxRecords, init);
    }

    public TrainOptions withMaxRecords(int m) {
        return new TrainOptions(rank, epochs, batchSize, learningRate, positiveWeight, heldOutFraction, targetRecall, seed, m, init);
    }

    public TrainOptions withBatchSize(int b) {
        return new TrainOptions(rank, epochs, b, learningRate, positiveWeight, heldOutFraction, targetRecall, seed, maxRecords, init);
    }

    public TrainOptions withLearningRate(float lr) {
        return new TrainOptions(rank, epochs, batchSize, lr, positiveWeight, heldOutFraction, targetRecall, seed, maxRecords, init);
    }

    public TrainOptions withPositiveWeight(float w) {
        return new TrainOptions(rank, epochs, batchSize, learningRate, w, heldOutFraction, targetRecall, seed, maxRecords, init);
    }

    public TrainOptions withHeldOutFraction(double f) {
        return new TrainOptions(rank, epochs, batchSize, learningRate, positiveWeight, f, targetRecall, seed, maxRecords, init);
    }

    public TrainOptions withSeed(long s) {
        return new TrainOptions(rank, epochs, batchSize, learningRate, positiveWeight, heldOutFraction, targetRecall, s, maxRecords, init);
    }

    public TrainOptions withInit(Init i) {
        return new TrainOptions(rank, epochs, batchSize, learningRate, positiveWeight, heldOutFraction, targetRecall, seed, maxRecords, i);
    }
}
