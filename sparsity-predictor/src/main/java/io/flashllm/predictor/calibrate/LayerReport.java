package io.flashllm.predictor.calibrate;

/**
 * One row of {@code flashllm calibrate}'s table: the layer's rank, its recall and precision on
 * held-out tokens at the tuned threshold, the share of neurons it predicts active (what is loaded)
 * against the share truly active, the predictor's size, and how training went.
 */
public record LayerReport(int layer, int rank, double recall, double precision, double predictedFraction, double trueFraction,
                          long bytes, int trainTokens, int heldOutTokens, int bestEpoch, double svdPredictedFraction,
                          long svdMillis, long trainMillis) {}
