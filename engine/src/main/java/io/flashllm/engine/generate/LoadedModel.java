package io.flashllm.engine.generate;

import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.api.ChatTool;
import io.flashllm.engine.api.DecodeStats;
import io.flashllm.engine.api.ExpertStats;
import io.flashllm.engine.api.ExpertStatsSource;
import io.flashllm.engine.api.FlashStats;
import io.flashllm.engine.api.FlashStatsSource;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.ModelInfo;
import io.flashllm.engine.api.Pooling;
import io.flashllm.engine.api.Reasoning;
import io.flashllm.engine.api.Session;
import io.flashllm.engine.api.ToolCallFormat;
import io.flashllm.engine.chat.ChatTemplate;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.model.ModelConfig;
import io.flashllm.engine.tokenizer.Tokenizer;
import io.flashllm.flashstore.ffn.DenseFeedForward;
import io.flashllm.flashstore.ffn.MoeFeedForward;
import io.flashllm.kernels.MatVec;

import java.util.List;
import java.util.Optional;

/**
 * A model ready to serve: transformer weights, tokenizer and chat format. Thread-safe; every
 * session has its own KV cache, and forward passes of concurrent sessions take turns.
 */
public final class LoadedModel implements InferenceModel, FlashStatsSource, ExpertStatsSource, DecodeStats {
    private final String id;
    private final LanguageModel model;
    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final ModelInfo info;
    private final FlashStats flashStats;
    private final Pooling declaredPooling;

    public LoadedModel(String id, LanguageModel model, Tokenizer tokenizer, ChatTemplate chatTemplate) {
        this(id, model, tokenizer, chatTemplate, null);
    }

    /** As above, with the flash store's counters when the FFN is read from flash (null otherwise). */
    public LoadedModel(String id, LanguageModel model, Tokenizer tokenizer, ChatTemplate chatTemplate,
                       FlashStats flashStats) {
        this(id, model, tokenizer, chatTemplate, flashStats, null);
    }

    /** As above, with the embedding pooling the model file declares (null: none). */
    public LoadedModel(String id, LanguageModel model, Tokenizer tokenizer, ChatTemplate chatTemplate,
                       FlashStats flashStats, Pooling declaredPooling) {
        this(id, model, tokenizer, chatTemplate, flashStats, declaredPooling, QuantizationLevel.of(null, model.weights()));
    }

    /** As above, with what the weights are quantized to ({@link QuantizationLevel}). */
    public LoadedModel(String id, LanguageModel model, Tokenizer tokenizer, ChatTemplate chatTemplate,
                       FlashStats flashStats, Pooling declaredPooling, String quantization) {
        this.flashStats = flashStats;
        this.declaredPooling = declaredPooling;
        this.id = id;
        this.model = model;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        ModelConfig c = model.config();
        this.info = new ModelInfo(id, c.ggufArchitecture(), c.contextLength(), c.vocabSize(),
                model.weights().parameterCount(), c.dim(), quantization);
    }

    @Override
    public ModelInfo info() {
        return info;
    }

    @Override
    public Pooling declaredPooling() {
        return declaredPooling;
    }

    @Override
    public Optional<FlashStats> flashStats() {
        return Optional.ofNullable(flashStats);
    }

    @Override
    public Optional<ExpertStats> expertStats() {
        if (!(model.ffn() instanceof MoeFeedForward moe)) return Optional.empty();
        return Optional.of(new ExpertStats() {
            @Override
            public int layers() {
                return moe.layers();
            }

            @Override
            public long lookups(int layer) {
                return moe.lookups(layer);
            }

            @Override
            public long misses(int layer) {
                return moe.misses(layer);
            }

            @Override
            public long readAhead(int layer) {
                return moe.readAhead(layer);
            }

            @Override
            public long pageOuts(int layer) {
                return moe.pageOuts(layer);
            }

            @Override
            public long budgetBytes() {
                return moe.residency() == null ? 0 : moe.residency().budget();
            }

            @Override
            public long usedBytes() {
                return moe.residency() == null ? 0 : moe.residency().countedBytes();
            }
        });
    }

    @Override
    public long kvCacheBytesOpen() {
        return model.kvCacheBytesOpen();
    }

    @Override
    public long decodeBatches() {
        return model.decodeBatches();
    }

    @Override
    public long batchedDecodeSteps() {
        return model.batchedDecodeSteps();
    }

    public LanguageModel languageModel() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ChatTemplate chatTemplate() {
        return chatTemplate;
    }

    @Override
    public int[] tokenize(String text, boolean addSpecial) {
        return tokenizer.encode(text, addSpecial);
    }

    @Override
    public String detokenize(int[] tokens) {
        return tokenizer.decode(tokens);
    }

    @Override
    public String renderChat(List<ChatMessage> messages) {
        return chatTemplate.render(messages, true);
    }

    @Override
    public String renderChat(List<ChatMessage> messages, boolean think) {
        return chatTemplate.render(messages, true, think);
    }

    @Override
    public String renderChat(List<ChatMessage> messages, boolean think, String effort) {
        return chatTemplate.render(messages, true, think, effort);
    }

    @Override
    public String renderChat(List<ChatMessage> messages, boolean think, String effort, List<ChatTool> tools) {
        return chatTemplate.render(messages, true, think, effort, tools);
    }

    @Override
    public ToolCallFormat toolCalls() {
        return chatTemplate.toolCalls();
    }

    @Override
    public Reasoning reasoning() {
        return chatTemplate.reasoning();
    }

    /** A session of {@code contextLength} positions, capped at the model's (possibly option-capped) context. */
    @Override
    public Session openSession(int contextLength) {
        return new GenerationSession(model.newTransformer(contextLength), tokenizer, sameAsFresh);
    }

    /** Set by {@link #deterministic()}: new sessions reuse only what a new session would compute the same way. */
    private volatile boolean sameAsFresh;

    /**
     * {@inheritDoc} A flash bundle refuses: its FFN adds a layer's neurons in the order of its neuron
     * cache's rows, which every session's traffic moves. So does a model decoding on a device, whose
     * kernels were not checked for it.
     */
    @Override
    public void deterministic() {
        if (flashStats != null) {
            throw new IllegalStateException("a flash bundle cannot run deterministically: its FFN adds a layer's"
                    + " neurons in the order of its neuron cache's rows, which every request's traffic moves");
        }
        if (model.device() != null) {
            throw new IllegalStateException("decoding on " + model.device().name() + " cannot run deterministically:"
                    + " only the CPU kernels were checked for it");
        }
        // Batched decode steps stay where the batch kernels add as one sequence's do (a dense model whose
        // weights are all such types); anywhere else each step runs alone.
        boolean batchable = model.ffn() instanceof DenseFeedForward
                && model.weights().types().stream().allMatch(MatVec::smallBatchMatchesMatvec);
        if (!batchable) model.decodeAlone();
        sameAsFresh = true;
    }

    @Override
    public void close() {
        model.close();
    }

    @Override
    public String toString() {
        return "LoadedModel[" + id + ", " + info.architecture() + ", " + info.parameterCount() + " parameters]";
    }
}
