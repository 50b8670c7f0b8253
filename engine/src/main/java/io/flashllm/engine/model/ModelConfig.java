package io.flashllm.engine.model;

import io.flashllm.flashstore.ffn.ExpertRouting;
import io.flashllm.flashstore.ffn.FfnActivation;

/**
 * The hyper-parameters of one decoder-only transformer, whatever file they came from.
 *
 * @param architecture    graph family
 * @param name            model name for display ({@code general.name}, the directory name, ...)
 * @param dim             residual stream width (embedding_length, hidden_size)
 * @param layers          number of decoder blocks
 * @param ffnDim          FFN neurons per layer (per expert in a mixture of experts)
 * @param heads           query heads
 * @param kvHeads         key/value heads (heads for MHA, fewer for GQA, 1 for MQA)
 * @param headDim         width of one head
 * @param vocabSize       rows of the token embedding
 * @param contextLength   positions the model was trained for
 * @param normEps         epsilon of RMSNorm / LayerNorm
 * @param rope            rotary embedding (style NONE for OPT)
 * @param activation      FFN activation
 * @param preNorm         OPT's do_layer_norm_before (Llama is always pre-norm)
 * @param wordEmbedDim    OPT's word_embed_proj_dim: width of token embeddings before project_in (= dim without it)
 * @param positionOffset  OPT's learned position table starts at row 2 (a fairseq legacy); 0 elsewhere
 * @param slidingWindow   attention sees only the last this many positions (Mistral v0.1, Gemma 3's local layers); 0 = all
 * @param globalEvery     with a sliding window, every this-many-th layer attends to all positions (Gemma 3: 6,
 *                        layers 5, 11, ...); 0 = the window holds in every layer
 * @param localRope       the rotation of the windowed layers when it differs from {@code rope} (Gemma 3's local
 *                        layers: base 10,000, no scaling), else null
 * @param attentionScale  what query-key products are multiplied by (1/sqrt(headDim) for most models)
 * @param attnSoftcap     Gemma 2: scaled query-key products become {@code c * tanh(s / c)}; 0 = none
 * @param finalSoftcap    Gemma 2: logits become {@code c * tanh(l / c)}; 0 = none
 * @param experts         a mixture of experts' routing (Mixtral, Qwen3-MoE); {@link ExpertRouting#NONE} for one FFN
 * @param multipliers     Granite's embedding, residual and logit scalars; {@link Multipliers#NONE} elsewhere
 */
public record ModelConfig(
        Architecture architecture,
        String name,
        int dim,
        int layers,
        int ffnDim,
        int heads,
        int kvHeads,
        int headDim,
        int vocabSize,
        int contextLength,
        float normEps,
        RopeConfig rope,
        FfnActivation activation,
        boolean preNorm,
        int wordEmbedDim,
        int positionOffset,
        int slidingWindow,
        int globalEvery,
        RopeConfig localRope,
        float attentionScale,
        float attnSoftcap,
        float finalSoftcap,
        ExpertRouting experts,
        Multipliers multipliers) {

    /** A model whose layers all attend alike, with the usual 1/sqrt(headDim) scale. */
    public ModelConfig(Architecture architecture, String name, int dim, int layers, int ffnDim, int heads, int kvHeads,
                       int headDim, int vocabSize, int contextLength, float normEps, RopeConfig rope,
                       FfnActivation activation, boolean preNorm, int wordEmbedDim, int positionOffset, int slidingWindow) {
        this(architecture, name, dim, layers, ffnDim, heads, kvHeads, headDim, vocabSize, contextLength, normEps, rope,
                activation, preNorm, wordEmbedDim, positionOffset, slidingWindow, 0, null,
                headDim > 0 ? (float) (1.0 / Math.sqrt(headDim)) : 1f, 0f, 0f, ExpertRouting.NONE, Multipliers.NONE);
    }

    /** A model with one FFN per layer. */
    public ModelConfig(Architecture architecture, String name, int dim, int layers, int ffnDim, int heads, int kvHeads,
                       int headDim, int vocabSize, int contextLength, float normEps, RopeConfig rope,
                       FfnActivation activation, boolean preNorm, int wordEmbedDim, int positionOffset, int slidingWindow,
                       int globalEvery, RopeConfig localRope, float attentionScale, float attnSoftcap, float finalSoftcap) {
        this(architecture, name, dim, layers, ffnDim, heads, kvHeads, headDim, vocabSize, contextLength, normEps, rope,
                activation, preNorm, wordEmbedDim, positionOffset, slidingWindow, globalEvery, localRope, attentionScale,
                attnSoftcap, finalSoftcap, ExpertRouting.NONE, Multipliers.NONE);
    }

    public ModelConfig {
        require(dim > 0, "embedding width must be positive, got " + dim);
        require(layers > 0, "block count must be positive, got " + layers);
        require(ffnDim > 0, "feed-forward width must be positive, got " + ffnDim);
        require(heads > 0, "head count must be positive, got " + heads);
        require(kvHeads > 0 && heads % kvHeads == 0,
                "key/value head count " + kvHeads + " must divide the head count " + heads);
        require(headDim > 0, "head width must be positive, got " + headDim);
        require(vocabSize >= 0, "vocabulary size must not be negative, got " + vocabSize);
        require(contextLength > 0, "context length must be positive, got " + contextLength);
        require(normEps > 0 && Float.isFinite(normEps), "norm epsilon must be positive, got " + normEps);
        require(wordEmbedDim > 0, "word embedding width must be positive, got " + wordEmbedDim);
        require(positionOffset >= 0, "position offset must not be negative, got " + positionOffset);
        require(slidingWindow >= 0, "sliding window must not be negative, got " + slidingWindow);
        require(globalEvery >= 0, "global layer interval must not be negative, got " + globalEvery);
        require(attentionScale > 0 && Float.isFinite(attentionScale), "attention scale must be positive, got " + attentionScale);
        require(attnSoftcap >= 0 && Float.isFinite(attnSoftcap), "attention soft-cap must not be negative, got " + attnSoftcap);
        require(finalSoftcap >= 0 && Float.isFinite(finalSoftcap), "logit soft-cap must not be negative, got " + finalSoftcap);
        if (rope.style() != RopeStyle.NONE) {
            require(rope.rotaryDim() <= headDim,
                    "rotary dimension " + rope.rotaryDim() + " exceeds the head width " + headDim);
        }
        require(architecture != Architecture.OPT || !activation.gated(), "OPT's FFN has no gate");
        require(architecture == Architecture.OPT || activation.gated(), "Llama-family FFNs are gated");
        if (experts == null) experts = ExpertRouting.NONE;
        if (multipliers == null) multipliers = Multipliers.NONE;
        require(!experts.moe() || architecture == Architecture.LLAMA || architecture == Architecture.QWEN3
                        || architecture == Architecture.GPT_OSS,
                "experts are read for Mixtral and Granite MoE (llama), Qwen3-MoE and gpt-oss only, not "
                        + architecture.ggufName());
    }

    private static void require(boolean ok, String fault) {
        if (!ok) throw new IllegalArgumentException(fault);
    }

    /** The attention window of {@code layer}: 0 (all positions) for a global layer or a model without a window. */
    public int windowOf(int layer) {
        return globalEvery > 0 && (layer + 1) % globalEvery == 0 ? 0 : slidingWindow;
    }

    /** The rotation {@code layer} uses. */
    public RopeConfig ropeOf(int layer) {
        return localRope != null && windowOf(layer) > 0 ? localRope : rope;
    }

    /** The same model with its FFNs a mixture of experts routed as {@code routing} says. */
    public ModelConfig withExperts(ExpertRouting routing) {
        return new ModelConfig(architecture, name, dim, layers, ffnDim, heads, kvHeads, headDim, vocabSize,
                contextLength, normEps, rope, activation, preNorm, wordEmbedDim, positionOffset, slidingWindow,
                globalEvery, localRope, attentionScale, attnSoftcap, finalSoftcap, routing, multipliers);
    }

    /** The same model with Granite's scalars, and its query-key scale. */
    public ModelConfig withMultipliers(Multipliers m, float newAttentionScale) {
        return new ModelConfig(architecture, name, dim, layers, ffnDim, heads, kvHeads, headDim, vocabSize,
                contextLength, normEps, rope, activation, preNorm, wordEmbedDim, positionOffset, slidingWindow,
                globalEvery, localRope, newAttentionScale, attnSoftcap, finalSoftcap, experts, m);
    }

    /**
     * {@code general.architecture} as llama.cpp names this model: the family's name, except for Qwen3 with
     * experts ({@code qwen3moe}) and Granite (a Llama with {@link Multipliers}: {@code granite},
     * {@code granitemoe}); Mixtral is {@code llama}.
     */
    public String ggufArchitecture() {
        if (multipliers.any()) return experts.moe() ? "granitemoe" : "granite";
        return architecture == Architecture.QWEN3 && experts.moe() ? "qwen3moe" : architecture.ggufName();
    }

    /** Query heads that share one key/value head. */
    public int groupSize() {
        return heads / kvHeads;
    }

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    public ModelConfig withVocabSize(int vocab) {
        return new ModelConfig(architecture, name, dim, layers, ffnDim, heads, kvHeads, headDim, vocab,
                contextLength, normEps, rope, activation, preNorm, wordEmbedDim, positionOffset, slidingWindow,
                globalEvery, localRope, attentionScale, attnSoftcap, finalSoftcap, experts, multipliers);
    }

    public ModelConfig withContextLength(int context) {
        return new ModelConfig(architecture, name, dim, layers, ffnDim, heads, kvHeads, headDim, vocabSize,
                context, normEps, rope, activation, preNorm, wordEmbedDim, positionOffset, slidingWindow,
                globalEvery, localRope, attentionScale, attnSoftcap, finalSoftcap, experts, multipliers);
    }

    public ModelConfig withRope(RopeConfig newRope) {
        return new ModelConfig(architecture, name, dim, layers, ffnDim, heads, kvHeads, headDim, vocabSize,
                contextLength, normEps, newRope, activation, preNorm, wordEmbedDim, positionOffset, slidingWindow,
                globalEvery, localRope, attentionScale, attnSoftcap, finalSoftcap, experts, multipliers);
    }

    public ModelConfig withActivation(FfnActivation newActivation) {
        return new ModelConfig(architecture, name, dim, layers, ffnDim, heads, kvHeads, headDim, vocabSize,
                contextLength, normEps, rope, newActivation, preNorm, wordEmbedDim, positionOffset, slidingWindow,
                globalEvery, localRope, attentionScale, attnSoftcap, finalSoftcap, experts, multipliers);
    }
}
