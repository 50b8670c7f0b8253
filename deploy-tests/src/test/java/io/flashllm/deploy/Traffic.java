package io.flashllm.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;

/** Requests that make every dashboard panel have something to show: streams, and a few errors. */
final class Traffic {
    private Traffic() {}

    // Greedy, so every run generates the same tokens: at the default temperature (0.8) the demo model
    // samples its end token first about once in 150 requests (1 of 150 in session 50), an empty
    // answer that failed DockerImageIT's "generated no text" once in CI.
    static final String COMPLETION = "{\"prompt\":\"Once upon a time\",\"max_tokens\":8,\"temperature\":0,\"stream\":true,"
            + "\"stream_options\":{\"include_usage\":true}}";
    static final String CHAT = "{\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}],\"max_tokens\":8,"
            + "\"temperature\":0,\"stream\":true}";

    /** Streams a completion and checks the SSE shape; returns it. */
    static Http.SseResult completion(String base) throws IOException, InterruptedException {
        Http.SseResult s = Http.stream(base + "/v1/completions", COMPLETION);
        assertEquals(200, s.status(), "streamed completion status");
        assertTrue(s.contentType().startsWith("text/event-stream"), "content type " + s.contentType());
        assertTrue(s.done(), "stream must end with data: [DONE]");
        assertFalse(s.chunks().isEmpty(), "no chunks");
        return s;
    }

    static void mixed(String base, int completions) throws IOException, InterruptedException {
        for (int i = 0; i < completions; i++) completion(base);
        Http.SseResult chat = Http.stream(base + "/v1/chat/completions", CHAT);
        assertEquals(200, chat.status(), "streamed chat status");
        assertTrue(chat.done(), "chat stream must end with [DONE]");
        assertEquals(200, Http.post(base + "/v1/embeddings", "{\"input\":[\"Say hello.\",\"Once upon a time\"]}").status(),
                "embeddings");
        assertEquals(404, Http.get(base + "/v1/models/no-such-model").status(), "unknown model id");
        assertEquals(400, Http.post(base + "/v1/completions", "{not json").status(), "malformed body");
    }
}
