package io.flashllm.server.http;

/** How an API writes its errors: OpenAI's {@code {"error":{...}}} objects, or Ollama's {@code {"error":"..."}}. */
interface ErrorShape {
    /** An error as its JSON body, before anything was written. */
    String errorBody(ApiError e);

    /** An error after a stream began: the text that reports it before the stream ends. */
    String streamedError(ApiError e);
}
