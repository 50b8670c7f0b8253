package io.flashllm.predictor.format;

/**
 * How a layer predictor did on its held-out calibration tokens, stored with it so the runtime and
 * {@code flashllm calibrate}'s table can report it without the trace.
 */
public record PredictorStats(float recall, float precision, float predictedFraction, float trueFraction, float targetRecall,
                             int trainTokens, int heldOutTokens) {}
