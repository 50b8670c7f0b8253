package io.flashllm.engine.api;

import java.util.List;

/**
 * How one request samples. Neutral values turn a feature off: temperature 0 is greedy, topK 0,
 * topP 1 and minP 0 keep every token, penalties of 1 (repetition) or 0 (presence, frequency) change
 * nothing. A seed makes the output reproducible.
 */
public record SamplingParams(
        float temperature,
        int topK,
        float topP,
        float minP,
        float repetitionPenalty,
        int repetitionLastN,
        float presencePenalty,
        float frequencyPenalty,
        long seed,
        int maxTokens,
        List<String> stop,
        int topLogprobs) {

    public SamplingParams {
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0f, 0, 1f, 0f, 1f, 64, 0f, 0f, 0L, maxTokens, List.of(), 0);
    }
}
