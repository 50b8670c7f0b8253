package io.flashllm.engine.api;

/** One conversation's state (KV cache, sampler); not thread-safe; close() frees its off-heap memory. */
public interface Session extends AutoCloseable {
    GenerationResult generate(int[] promptTokens, SamplingParams params, GenerationListener listener);

    /**
     * How many leading tokens of {@code promptTokens} this session's KV cache already holds, which
     * {@link #generate} would not run again (0 for a new session). A server gives a conversation's
     * next turn to the slot whose session answers most.
     */
    int reusablePrefix(int[] promptTokens);

    @Override
    void close();
}
