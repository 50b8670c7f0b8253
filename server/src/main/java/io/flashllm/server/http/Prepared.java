package io.flashllm.server.http;

import io.flashllm.engine.api.Reasoning;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.ToolCallFormat;

/**
 * A request made ready for a slot: its prompt tokens, sampling, (for echo) the prompt text, and how many
 * alternatives to show with the prompt's own log-probabilities (-1: the prompt is not scored; echo with
 * logprobs scores it), how to take the model's thinking apart from its answer ({@code thinking}: null to
 * leave the text whole; {@code promptOpens} when the answer starts inside the thinking), and how the model's calls
 * look ({@code calls}: null without tools).
 */
record Prepared(int[] promptTokens, SamplingParams params, String echoText, int scorePrompt, Reasoning thinking,
                ToolCallFormat calls) {}
