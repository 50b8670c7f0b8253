package io.flashllm.server.http;

import io.flashllm.engine.api.SamplingParams;

/**
 * A request made ready for a slot: its prompt tokens, sampling, (for echo) the prompt text, and how many
 * alternatives to show with the prompt's own log-probabilities (-1: the prompt is not scored; echo with
 * logprobs scores it).
 */
record Prepared(int[] promptTokens, SamplingParams params, String echoText, int scorePrompt) {}
