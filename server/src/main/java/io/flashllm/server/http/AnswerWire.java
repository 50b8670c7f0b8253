package io.flashllm.server.http;

import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.PromptLogprobs;

/**
 * How one request's answer is written: OpenAI's JSON bodies and SSE chunks, or Ollama's JSON and NDJSON
 * lines; {@link Responses} shapes errors by path. {@link CompletionExchange} does the rest (admission, pings,
 * slow readers, disconnects) the same for both. Streaming methods run on the slot thread, in order; one wire per request.
 */
interface AnswerWire {
    /** The Content-Type of a streamed answer. */
    String streamContentType();

    /** What a stream starts with, right after its head ("" for nothing); called once, before the job is queued. */
    String opening();

    /** The prompt's own log-probabilities, before any token (echo with logprobs); kept for the answer. */
    default void promptLogprobs(PromptLogprobs scores) {}

    /** The text to write for one generated token, or null when nothing goes out for it now. */
    String piece(GeneratedToken token);

    /** What ends a stream once generation finished. */
    String closing(GenerationResult result);

    /** A whole (non-streamed) answer's JSON body. */
    String whole(GenerationResult result);

    /** Keep-alive text for a quiet stream, or null when the format has none. */
    String ping();
}
