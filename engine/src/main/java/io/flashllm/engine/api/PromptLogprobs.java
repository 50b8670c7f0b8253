package io.flashllm.engine.api;

/**
 * How likely the model finds each token of a prompt: {@code logprobs[i]} is the natural-log probability
 * of token i given the tokens before it, with the {@code topIds[i]} / {@code topLogprobs[i]} most likely
 * tokens at that place (best first). Position 0 has nothing before it: NaN and null there. What
 * scoring clients (lm-eval's log-likelihood tasks) read from OpenAI's {@code echo} with {@code logprobs}.
 */
public record PromptLogprobs(float[] logprobs, int[][] topIds, float[][] topLogprobs) {}
