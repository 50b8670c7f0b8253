package io.flashllm.engine.api;

import io.flashllm.engine.grammar.Grammar;
import java.util.List;
import java.util.Map;

/**
 * How one request samples. Neutral values turn a feature off: temperature 0 is greedy, topK 0,
 * topP 1 and minP 0 keep every token, penalties of 1 (repetition) or 0 (presence, frequency) change
 * nothing. A seed makes the output reproducible.
 *
 * <p>{@code logitBias} adds a value to a token's logit before anything else (OpenAI's {@code logit_bias}: -100
 * bans a token, +100 all but forces it); {@code grammar}, when not null, lets only tokens through that keep the
 * output a sentence of it (structured output; see {@link io.flashllm.engine.grammar}).
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
        int topLogprobs,
        Map<Integer, Float> logitBias,
        Grammar grammar) {

    public SamplingParams {
        stop = stop == null ? List.of() : List.copyOf(stop);
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
    }

    /** Sampling without a logit bias or grammar. */
    public SamplingParams(float temperature, int topK, float topP, float minP, float repetitionPenalty,
            int repetitionLastN, float presencePenalty, float frequencyPenalty, long seed, int maxTokens,
            List<String> stop, int topLogprobs) {
        this(temperature, topK, topP, minP, repetitionPenalty, repetitionLastN, presencePenalty, frequencyPenalty,
                seed, maxTokens, stop, topLogprobs, Map.of(), null);
    }

    /** The same sampling with at most {@code n} new tokens. */
    public SamplingParams withMaxTokens(int n) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, repetitionLastN,
                presencePenalty, frequencyPenalty, seed, n, stop, topLogprobs, logitBias, grammar);
    }

    /** The same sampling with this grammar (null: none). */
    public SamplingParams withGrammar(Grammar g) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, repetitionLastN,
                presencePenalty, frequencyPenalty, seed, maxTokens, stop, topLogprobs, logitBias, g);
    }

    /** The same sampling with this logit bias (token id to the value added to its logit). */
    public SamplingParams withLogitBias(Map<Integer, Float> bias) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, repetitionLastN,
                presencePenalty, frequencyPenalty, seed, maxTokens, stop, topLogprobs, bias, grammar);
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0f, 0, 1f, 0f, 1f, 64, 0f, 0f, 0L, maxTokens, List.of(), 0);
    }
}
