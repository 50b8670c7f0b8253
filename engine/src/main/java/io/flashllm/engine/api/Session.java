package io.flashllm.engine.api;

/** One conversation's state (KV cache, sampler); not thread-safe; close() frees its off-heap memory. */
public interface Session extends AutoCloseable {
    GenerationResult generate(int[] promptTokens, SamplingParams params, GenerationListener listener);

    @Override
    void close();
}
