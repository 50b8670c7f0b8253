package io.flashllm.engine.model;

import io.flashllm.flashstore.ffn.DenseFfnLayer;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

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
 * @param ffn               FFN weights per block, for the dense feed-forward; in a mixture of experts every
 *                          block's experts, block-major (block l's expert e at {@code l * experts + e})
 * @param routers           a mixture of experts' router per block; empty for a dense FFN
 * @param routerBiases      the routers' biases (gpt-oss), one per block; empty where they have none
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
        List<WeightTensor> routers,
        List<WeightTensor> routerBiases,
        long parameterCount) {

    public ModelWeights {
        layers = List.copyOf(layers);
        ffn = List.copyOf(ffn);
        routers = List.copyOf(routers);
        routerBiases = List.copyOf(routerBiases);
    }

    public boolean tiedEmbeddings() {
        return output == tokenEmbedding;
    }

    /**
     * The types of every tensor here: the whole-model ones, each layer's attention and norm tensors
     * and the dense FFN weights (empty for a bundle, whose FFN is read from flash). Absent tensors
     * (null) count for nothing.
     */
    public Set<GgmlType> types() {
        Set<GgmlType> types = EnumSet.noneOf(GgmlType.class);
        add(types, tokenEmbedding, positionEmbedding, projectIn, projectOut, outputNorm, outputNormBias, output);
        for (LayerWeights l : layers) {
            add(types, l.attnNorm(), l.attnNormBias(), l.wq(), l.bq(), l.wk(), l.bk(), l.wv(), l.bv(),
                    l.wo(), l.bo(), l.ffnNorm(), l.ffnNormBias(), l.qNorm(), l.kNorm(), l.postAttnNorm(), l.postFfnNorm(), l.sinks());
        }
        for (DenseFfnLayer f : ffn) add(types, f.gate(), f.gateBias(), f.up(), f.upBias(), f.down(), f.downBias());
        for (WeightTensor r : routers) add(types, r);
        for (WeightTensor r : routerBiases) add(types, r);
        return types;
    }

    private static void add(Set<GgmlType> types, WeightTensor... tensors) {
        for (WeightTensor t : tensors) {
            if (t != null) types.add(t.type());
        }
    }
}
