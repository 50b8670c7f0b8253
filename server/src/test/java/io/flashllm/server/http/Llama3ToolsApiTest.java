package io.flashllm.server.http;

import static io.flashllm.server.http.TestServer.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.engine.chat.BuiltinTemplate;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Llama 3.1's function calling on a real server: a fake with the Llama 3 chat format lists the tools in the first
 * user turn and answers with a scripted call, a character a token.
 */
class Llama3ToolsApiTest {
    static final String ASK = "{" + HarmonyToolsApiTest.TOOLS + ",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}]";

    static TestServer ts;
    static FakeModel model;

    @BeforeAll
    static void start() {
        model = new FakeModel(0, 0, 4096);
        model.format = BuiltinTemplate.LLAMA3;
        model.script = "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}";
        ts = new TestServer(model, Map.of());
    }

    @AfterAll
    static void stop() {
        ts.close();
    }

    @Test
    void theCallComesBackWholeAndStreamed() throws Exception {
        JsonNode choice = ok(ts.post("/v1/chat/completions", ASK + "}")).get("choices").get(0);
        assertTrue(model.lastPrompt.contains("<|start_header_id|>user<|end_header_id|>\n\nGiven the following functions"),
                model.lastPrompt);
        assertEquals("tool_calls", choice.get("finish_reason").asText(), choice.toString());
        JsonNode fn = choice.get("message").get("tool_calls").get(0).get("function");
        assertEquals("get_weather", fn.get("name").asText());
        assertEquals("{\"city\":\"Paris\"}", fn.get("arguments").asText());
        assertTrue(choice.get("message").get("content").isNull());

        StringBuilder content = new StringBuilder();
        JsonNode streamed = null;
        for (SseParser.Event e : SseParser.parse(ts.post("/v1/chat/completions", ASK + ",\"stream\":true}").body())) {
            if (e.data() == null || e.data().equals("[DONE]")) continue;
            JsonNode delta = TestServer.JSON.readTree(e.data()).get("choices").get(0).get("delta");
            if (delta.has("content") && !delta.get("content").isNull()) content.append(delta.get("content").asText());
            if (delta.has("tool_calls")) streamed = delta.get("tool_calls");
        }
        assertEquals("", content.toString(), "no part of the call streams as words");
        assertEquals(fn, streamed.get(0).get("function"));
    }
}
