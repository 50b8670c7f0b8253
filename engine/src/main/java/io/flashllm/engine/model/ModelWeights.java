package io.flashllm.engine.model;

import io.flashllm.flashstore.ffn.DenseFfnLayer;
import io.flashllm.kernels.WeightTensor;

import java.util.List;

/**
 * Every tensor of a model, used in place from its mapped file.
 *
 * @param tokenEmbedding    vocab rows of wordEmbedDim
 * @param positionEmbedding OPT's learned positions, else null
 * @param projectIn         OPT's wordEmbedDim to dim projection, or null
 * @param projectOut        OPT's dim to wordEmbedDim projection, or null
 * @param outputNorm        final norm (null for post-norm OPT)
 * @param outputNormBias    its bias (LayerNorm), or null
 * @param output            classifier; the token embedding itself when tied
 * @param layers            attention weights per block
 * @param ffn               FFN weights per block, for the dense feed-forward
 * @param parameterCount    elements over all distinct tensors
 */
public record ModelWeights(
        WeightTensor tokenEmbedding,
        WeightTensor positionEmbedding,
        WeightTensor projectIn,
        WeightTensor projectOut,
        WeightTensor outputNorm,
        WeightTensor outputNormBias,
        WeightTensor output,
        List<LayerWeights> layers,
        List<DenseFfnLayer> ffn,
        long parameterCount) {

    public ModelWeights {
        layers = List.copyOf(layers);
        ffn = List.copyOf(ffn);
    }

    public boolean tiedEmbeddings() {
        return output == tokenEmbedding;
    }
}
