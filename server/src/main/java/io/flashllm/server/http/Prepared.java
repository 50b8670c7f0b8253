package io.flashllm.server.http;

import io.flashllm.engine.api.Reasoning;
import io.flashllm.engine.api.SamplingParams;

/**
 * A request made ready for a slot: its prompt tokens, sampling, (for echo) the prompt text, and how many
 * alternatives to show with the prompt's own log-probabilities (-1: the prompt is not scored; echo with
 * logprobs scores it), and how to take the model's thinking apart from its answer ({@code thinking}: null to
 * leave the text whole; {@code promptOpens} when the answer starts inside the thinking).
 */
record Prepared(int[] promptTokens, SamplingParams params, String echoText, int scorePrompt, Reasoning thinking) {}
