package io.flashllm.server.http;

import io.flashllm.engine.api.SamplingParams;

/** A request made ready for a slot: its prompt tokens, sampling and (for echo) the prompt text. */
record Prepared(int[] promptTokens, SamplingParams params, String echoText) {}
