package io.flashllm.engine.api;

import java.util.List;

/**
 * A loaded model: tokenizer, chat template and weights. Thread-safe; each concurrent generation
 * runs in its own {@link Session}.
 */
public interface InferenceModel extends AutoCloseable {
    ModelInfo info();

    /** Token ids of {@code text}; with {@code addSpecial} the BOS token (and SPM's leading space) as llama.cpp adds them. */
    int[] tokenize(String text, boolean addSpecial);

    String detokenize(int[] tokens);

    /** The prompt text for a conversation under the model's chat template, ending with the assistant's turn opener. */
    String renderChat(List<ChatMessage> messages);

    /**
     * {@link #renderChat(List)} with the model's thinking on or off; the same prompt for a model that does
     * not think ({@link #reasoning()} null).
     */
    default String renderChat(List<ChatMessage> messages, boolean think) {
        return renderChat(messages);
    }

    /**
     * {@link #renderChat(List, boolean)} with a reasoning effort ("low", "medium", "high"; null: the format's
     * default) for a format that takes one (gpt-oss's harmony); the others ignore it.
     */
    default String renderChat(List<ChatMessage> messages, boolean think, String effort) {
        return renderChat(messages, think);
    }

    /**
     * {@link #renderChat(List, boolean, String)} for a conversation that may call functions: {@code tools} declared,
     * earlier calls and results (role tool) written as the model's chat format has them (Hermes turns where the
     * format has no syntax of its own).
     */
    default String renderChat(List<ChatMessage> messages, boolean think, String effort, List<ChatTool> tools) {
        return renderChat(io.flashllm.engine.chat.HermesToolCalls.inline(messages, tools), think, effort);
    }

    /** How the model calls functions: what opens a call, the grammar of one, how calls are read back. */
    default ToolCallFormat toolCalls() {
        return io.flashllm.engine.chat.HermesToolCalls.INSTANCE;
    }

    /** How the model marks the thinking it writes before its answer, or null when it does not think aloud. */
    default Reasoning reasoning() {
        return null;
    }

    /**
     * The pooling the model file declares for embeddings (GGUF {@code <arch>.pooling_type}), or null
     * when it declares none and the caller chooses.
     */
    default Pooling declaredPooling() {
        return null;
    }

    /**
     * Makes every later generation exactly what the model gives its prompt alone in a new session
     * (same tokens, log-probabilities to the bit), whatever other sessions run beside it and whatever
     * its session's KV cache held before: decode steps run batched across sessions only where the
     * batch kernels add as one session's do, and a session reuses only the cached prompt positions a
     * new session would have computed the same way.
     * Call before opening the sessions it should cover.
     *
     * @throws IllegalStateException when this model cannot promise it (the message says why); a model
     *                               that does not say how it would keep the promise refuses
     */
    default void deterministic() {
        throw new IllegalStateException(info().id() + " cannot run deterministically");
    }

    /** A new session with its own KV cache of at most {@code contextLength} positions. */
    Session openSession(int contextLength);

    @Override
    void close();
}
