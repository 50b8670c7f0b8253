package io.flashllm.predictor.runtime;

import io.flashllm.flashstore.bundle.Manifest;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.predictor.bundle.BundleOracles;
import io.flashllm.predictor.format.PredictorSet;
import io.flashllm.predictor.trace.ActivationOracle;
import io.flashllm.predictor.trace.LayerMatrices;

import java.nio.file.Path;
import java.util.function.Function;

/**
 * Builds the {@code predicted} selector of a bundle from the parts the bundle loader has while it
 * opens the bundle (so it can be plugged in before the bundle FFN exists): the predictors named
 * by the manifest, mapped, and, when a sample rate is given, a quality sampler over the bundle's
 * gate (or fc1) matrices. Closing the selector unmaps the predictors.
 */
public final class PredictedSelectors {
    private PredictedSelectors() {}

    /**
     * @param residentTensor looks a tensor up in the bundle's resident file
     * @param parallel       the model's pool to score with, or null
     * @param sampleRate     share of (token, layer) pairs checked against the truth; 0 for none.
     *                       With gates resident a check costs one gate matvec; for OPT (fc1 on
     *                       flash) it reads the layer's fc1 rows, so keep the rate low there
     */
    public static PredictedSelector open(Path dir, Manifest manifest, FfnActivation activation,
                                         Function<String, WeightTensor> residentTensor, Parallel parallel, double sampleRate) {
        PredictorSet set = PredictorSet.open(dir, manifest);
        LayerMatrices matrices = null;
        try {
            QualitySampler sampler = null;
            if (sampleRate > 0) {
                matrices = BundleOracles.matrices(dir, manifest, activation, residentTensor);
                sampler = new QualitySampler(new ActivationOracle(matrices, activation), sampleRate, System.nanoTime());
            }
            LayerMatrices m = matrices;
            return new PredictedSelector(set, sampler, parallel, () -> {
                try {
                    if (m != null) m.close();
                } finally {
                    set.close();
                }
            });
        } catch (RuntimeException e) {
            if (matrices != null) matrices.close();
            set.close();
            throw e;
        }
    }
}
