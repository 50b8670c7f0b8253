package io.flashllm.engine.api;

/**
 * What one generate call produced, with the time spent on the prompt and on generation.
 * {@code cachedPromptTokens} leading prompt tokens were already in the session's KV cache and did
 * not run again; {@code promptNanos} covers the rest.
 */
public record GenerationResult(
        int[] promptTokens,
        int cachedPromptTokens,
        int[] tokens,
        String text,
        FinishReason finishReason,
        long promptNanos,
        long generationNanos) {}
