package io.flashllm.engine.api;

/** What one generate call produced, with the time spent on the prompt and on generation. */
public record GenerationResult(
        int[] promptTokens,
        int[] tokens,
        String text,
        FinishReason finishReason,
        long promptNanos,
        long generationNanos) {}
