package io.flashllm.server.http;

import static io.flashllm.server.http.TestServer.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.engine.chat.ChatTemplates;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gpt-oss's function calling on every chat wire of a real server: a fake with the harmony chat format declares the
 * tools in its prompt and answers with a scripted reply, a character a token, so that the analysis, the call's header
 * and its arguments reach the server in pieces.
 */
class HarmonyToolsApiTest {
    static final String TOOLS = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
            + "\"description\":\"Weather now\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
            + "\"required\":[\"city\"]}}}]";
    static final String THOUGHT = "They want the weather in Paris.";
    static final String CALL = "<|channel|>analysis<|message|>" + THOUGHT + "<|start|>assistant<|channel|>commentary"
            + " to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}";
    static final String ASK = "{" + TOOLS + ",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}]";

    static TestServer ts;
    static FakeModel model;

    @BeforeAll
    static void start() {
        model = new FakeModel(0, 0, 4096);
        model.format = ChatTemplates.forModel(Map.of("tokenizer.ggml.tokens",
                List.of("<|start|>", "<|message|>", "<|channel|>", "<|end|>", "<|return|>", "<|call|>")));
        assertEquals("harmony", model.format.id());
        ts = new TestServer(model, Map.of());
    }

    @AfterAll
    static void stop() {
        ts.close();
    }

    @Test
    void openAiChatAnswersTheCallWholeAndStreamed() throws Exception {
        model.script = CALL;
        JsonNode r = ok(ts.post("/v1/chat/completions", ASK + "}"));
        assertTrue(model.lastPrompt.contains("# Tools\n\n## functions\n\nnamespace functions {\n\n// Weather now\n"
                + "type get_weather = (_: {\ncity: string,\n}) => any;"), model.lastPrompt);
        JsonNode choice = r.get("choices").get(0);
        assertEquals("tool_calls", choice.get("finish_reason").asText(), choice.toString());
        JsonNode msg = choice.get("message");
        assertTrue(msg.get("content").isNull(), msg.toString());
        assertEquals(THOUGHT, msg.get("reasoning_content").asText());
        JsonNode call = msg.get("tool_calls").get(0);
        assertEquals("get_weather", call.get("function").get("name").asText());
        assertEquals("{\"city\":\"Paris\"}", call.get("function").get("arguments").asText());
        assertTrue(call.get("id").asText().startsWith("call_"));

        StringBuilder thought = new StringBuilder(), content = new StringBuilder();
        JsonNode streamedCalls = null;
        String finish = null;
        for (SseParser.Event e : SseParser.parse(ts.post("/v1/chat/completions", ASK + ",\"stream\":true}").body())) {
            if (e.data() == null || e.data().equals("[DONE]")) continue;
            JsonNode c = TestServer.JSON.readTree(e.data()).get("choices").get(0);
            JsonNode delta = c.get("delta");
            if (delta.has("reasoning_content")) thought.append(delta.get("reasoning_content").asText());
            if (delta.has("content") && !delta.get("content").isNull()) content.append(delta.get("content").asText());
            if (delta.has("tool_calls")) streamedCalls = delta.get("tool_calls");
            if (!c.get("finish_reason").isNull()) finish = c.get("finish_reason").asText();
        }
        assertEquals(THOUGHT, thought.toString());
        assertEquals("", content.toString(), "no part of the call's header streams as words");
        assertEquals(msg.get("tool_calls").get(0).get("function"), streamedCalls.get(0).get("function"));
        assertEquals("tool_calls", finish);
    }

    @Test
    void theResultGoesBackAsAMessageFromTheFunction() throws Exception {
        model.script = "<|channel|>analysis<|message|>Sunny there.<|start|>assistant<|channel|>final<|message|>It is sunny in Paris.";
        JsonNode r = ok(ts.post("/v1/chat/completions", "{" + TOOLS + ",\"messages\":["
                + "{\"role\":\"user\",\"content\":\"Weather in Paris?\"},"
                + "{\"role\":\"assistant\",\"content\":null,\"reasoning_content\":\"" + THOUGHT + "\",\"tool_calls\":[{\"id\":\"call_7\","
                + "\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"call_7\",\"content\":\"{\\\"sunny\\\":true}\"}]}"));
        assertTrue(model.lastPrompt.endsWith("<|start|>user<|message|>Weather in Paris?<|end|>"
                + "<|start|>assistant<|channel|>analysis<|message|>" + THOUGHT + "<|end|>"
                + "<|start|>assistant to=functions.get_weather<|channel|>commentary json<|message|>{\"city\":\"Paris\"}<|call|>"
                + "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>{\"sunny\":true}<|end|>"
                + "<|start|>assistant"), model.lastPrompt);
        JsonNode choice = r.get("choices").get(0);
        assertEquals("stop", choice.get("finish_reason").asText());
        assertEquals("It is sunny in Paris.", choice.get("message").get("content").asText());
        assertEquals("Sunny there.", choice.get("message").get("reasoning_content").asText());
        assertFalse(choice.get("message").has("tool_calls"));

        // A result with nothing it could answer cannot be written in harmony: a clear 400, not a 500.
        HttpResponse<String> orphan = ts.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"sunny\"}]}");
        assertEquals(400, orphan.statusCode(), orphan.body());
        assertTrue(orphan.body().contains("a tool result must follow an assistant turn that called a function"), orphan.body());
    }

    @Test
    void aReplyInWordsIsNoCall() throws Exception {
        model.script = "<|channel|>analysis<|message|>No tool needed.<|start|>assistant<|channel|>final<|message|>Hello there.";
        JsonNode msg = ok(ts.post("/v1/chat/completions", ASK + "}")).get("choices").get(0).get("message");
        assertEquals("Hello there.", msg.get("content").asText());
        assertFalse(msg.has("tool_calls"));
        StringBuilder content = new StringBuilder();
        for (SseParser.Event e : SseParser.parse(ts.post("/v1/chat/completions", ASK + ",\"stream\":true}").body())) {
            if (e.data() == null || e.data().equals("[DONE]")) continue;
            JsonNode delta = TestServer.JSON.readTree(e.data()).get("choices").get(0).get("delta");
            if (delta.has("content") && !delta.get("content").isNull()) content.append(delta.get("content").asText());
        }
        assertEquals("Hello there.", content.toString());
    }

    @Test
    void ollamaAndResponsesAnswerTheCallTheirWay() throws Exception {
        model.script = CALL;
        JsonNode r = ok(ts.post("/api/chat", "{\"model\":\"fake-model\",\"stream\":false," + ASK.substring(1) + "}"));
        JsonNode fn = r.get("message").get("tool_calls").get(0).get("function");
        assertEquals("get_weather", fn.get("name").asText());
        assertEquals("Paris", fn.get("arguments").get("city").asText(), "Ollama sends arguments as an object");
        assertEquals(THOUGHT, r.get("message").get("thinking").asText());
        assertEquals("", r.get("message").get("content").asText());

        List<JsonNode> lines = new ArrayList<>();
        for (String l : ts.post("/api/chat", "{\"model\":\"fake-model\"," + ASK.substring(1) + "}").body().split("\n")) {
            if (!l.isBlank()) lines.add(TestServer.JSON.readTree(l));
        }
        StringBuilder words = new StringBuilder();
        for (JsonNode l : lines) words.append(l.get("message").get("content").asText());
        assertEquals("", words.toString(), "no part of the call streams as words");
        assertEquals("get_weather", lines.getLast().get("message").get("tool_calls").get(0).get("function").get("name").asText());

        JsonNode resp = ok(ts.post("/v1/responses", "{\"input\":\"Weather in Paris?\",\"tools\":[{\"type\":\"function\","
                + "\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}]}"));
        JsonNode call = null;
        for (JsonNode item : resp.get("output")) if (item.get("type").asText().equals("function_call")) call = item;
        assertTrue(call != null, resp.toString());
        assertEquals("{\"city\":\"Paris\"}", call.get("arguments").asText());
    }

    @Test
    void applyTemplateShowsThePromptTheToolsMake() throws Exception {
        String p = ok(ts.post("/apply-template", ASK + "}")).get("prompt").asText();
        assertTrue(p.startsWith("<|start|>system<|message|>You are ChatGPT"), p);
        assertTrue(p.contains("Calls to these tools must go to the commentary channel: 'functions'.<|end|>"), p);
        assertTrue(p.endsWith("} // namespace functions<|end|><|start|>user<|message|>Weather in Paris?<|end|><|start|>assistant"), p);
        HttpResponse<String> bad = ts.post("/apply-template", "{\"messages\":[]}");
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("'messages' must not be empty"), bad.body());
    }
}
