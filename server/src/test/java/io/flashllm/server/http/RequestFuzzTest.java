package io.flashllm.server.http;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * Request bodies come from anyone: every parser of every endpoint (OpenAI's completions, chat and
 * responses, Ollama's generate and chat, llama.cpp's /completion, the four embeddings shapes) and the preparation
 * that follows (tokenizing, fitting the context, checking token ids against the vocabulary) either
 * accepts a body or refuses it with an {@link ApiError} (a 4xx naming the field). Any other exception
 * would be a 500 for the client's mistake. Plain {@code mvn test} replays the committed inputs under
 * {@code RequestFuzzTestInputs/bodies}; {@code JAZZER_FUZZ=1} fuzzes.
 */
class RequestFuzzTest {
    private static final FakeModel MODEL = new FakeModel(0, 0, 64);

    static {
        MODEL.thinking = true; // prompts rendered with thinking on and off, the reply's tags taken apart
    }
    private static final List<String> IDS = List.of("fake-model");

    @FuzzTest(maxDuration = "60s")
    void bodies(byte[] data) {
        JsonNode body;
        try {
            body = Json.parseObject(data);
        } catch (ApiError refused) {
            return;
        }
        for (boolean chat : new boolean[] {false, true}) {
            prepare(() -> RequestParser.parse(body, chat, IDS));
            prepare(() -> {
                OllamaRequests.modelName(body, IDS);
                OllamaRequests.onlyLoads(body, chat);
                return OllamaRequests.parse(body, chat);
            });
        }
        prepare(() -> LlamaCppRequests.parse(body).request());
        prepare(() -> ResponsesRequests.parse(body, IDS).request());
        for (EmbeddingRequest.Api api : EmbeddingRequest.Api.values()) {
            try {
                EmbeddingRequest.parse(body, api).tokens(MODEL, 32);
            } catch (ApiError refused) {
                // a clear refusal
            }
        }
    }

    private interface Parse {
        CompletionRequest run();
    }

    /** Parses, then prepares the prompt as the server does before a slot takes it. */
    private static void prepare(Parse parse) {
        try {
            PromptPreparer.prepare(parse.run(), MODEL, 64, 0, PromptPreparer.ThinkingDefaults.SETTINGS);
        } catch (ApiError refused) {
            // a clear refusal
        }
    }
}
