package io.flashllm.server.http;

import static io.flashllm.server.http.TestServer.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.server.config.Setting;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A thinking model's thinking on every chat wire, on a real server: apart from the answer by default
 * (OpenAI's {@code reasoning_content}, Ollama's {@code thinking}, a Responses {@code reasoning} item),
 * streamed the same as whole, counted as reasoning tokens, and turned off or left in the text by the
 * request or the server's settings. The fake model thinks one sentence ({@link FakeModel#THOUGHT}) and
 * spells its answer a character a token, so every tag reaches the server in pieces.
 */
class ReasoningApiTest {
    static final String THOUGHT = "They want a greeting.";
    /** The thought and the answer "Hello" (5 tokens after the thought's). */
    static final int MAX = FakeModel.THOUGHT.length() + 5;
    static final String HI = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":" + MAX;

    static TestServer ts;
    static FakeModel model;

    @BeforeAll
    static void start() {
        model = new FakeModel(0, 0, 512);
        model.thinking = true;
        ts = new TestServer(model, Map.of());
    }

    @AfterAll
    static void stop() {
        ts.close();
    }

    @Test
    void openAiChatAnswersTheThinkingApart() throws Exception {
        JsonNode r = ok(ts.post("/v1/chat/completions", "{" + HI + "}"));
        JsonNode msg = r.get("choices").get(0).get("message");
        assertEquals("Hello", msg.get("content").asText());
        assertEquals(THOUGHT, msg.get("reasoning_content").asText());
        assertEquals(MAX, r.get("usage").get("completion_tokens").asInt());
        // "<think>\n" + the thought + "\n</think>": the newlines after the closing tag are the answer's.
        assertEquals(FakeModel.THOUGHT.length() - 2, r.get("usage").get("completion_tokens_details").get("reasoning_tokens").asInt());

        StringBuilder thought = new StringBuilder(), content = new StringBuilder();
        boolean answerStarted = false;
        for (SseParser.Event e : SseParser.parse(ts.post("/v1/chat/completions", "{\"stream\":true," + HI + "}").body())) {
            if (e.data() == null || e.data().equals("[DONE]")) continue;
            JsonNode delta = TestServer.JSON.readTree(e.data()).get("choices").get(0).get("delta");
            if (delta.has("reasoning_content")) {
                assertFalse(answerStarted, "all of the thinking comes before the answer");
                thought.append(delta.get("reasoning_content").asText());
            }
            if (delta.has("content")) {
                content.append(delta.get("content").asText());
                answerStarted |= !delta.get("content").asText().isEmpty();
            }
        }
        assertEquals(THOUGHT, thought.toString());
        assertEquals("Hello", content.toString());
    }

    @Test
    void theRequestTurnsThinkingOffOrLeavesItInTheText() throws Exception {
        for (String off : List.of("\"chat_template_kwargs\":{\"enable_thinking\":false}", "\"reasoning_effort\":\"none\"",
                "\"think\":false")) {
            JsonNode msg = ok(ts.post("/v1/chat/completions", "{" + off + "," + HI + "}")).get("choices").get(0).get("message");
            assertTrue(msg.get("content").asText().startsWith("Hello, world!"), off + ": " + msg);
            assertNull(msg.get("reasoning_content"), off);
        }
        JsonNode kept = ok(ts.post("/v1/chat/completions", "{\"reasoning_format\":\"none\"," + HI + "}"))
                .get("choices").get(0).get("message");
        assertEquals(FakeModel.THOUGHT + "Hello", kept.get("content").asText());
        assertNull(kept.get("reasoning_content"));
        // A JSON schema holds the answer from its first token: the model answers without thinking unless asked to.
        JsonNode schema = ok(ts.post("/v1/chat/completions", "{\"response_format\":{\"type\":\"json_object\"}," + HI + "}"));
        assertNull(schema.get("choices").get(0).get("message").get("reasoning_content"));
        assertEquals(400, ts.post("/v1/chat/completions", "{\"reasoning_format\":\"tags\"," + HI + "}").statusCode());
        assertEquals(400, ts.post("/v1/chat/completions", "{\"chat_template_kwargs\":[]," + HI + "}").statusCode());
    }

    /**
     * The effort a request asks for reaches the chat format (gpt-oss's harmony states it in its system message):
     * OpenAI's reasoning_effort (minimal as low), the Responses API's reasoning.effort, Ollama's think levels.
     */
    @Test
    void theRequestedEffortReachesTheChatFormat() throws Exception {
        String[][] cases = {
            {"/v1/chat/completions", "{\"reasoning_effort\":\"high\"," + HI + "}", "high"},
            {"/v1/chat/completions", "{\"reasoning_effort\":\"minimal\"," + HI + "}", "low"},
            {"/v1/chat/completions", "{\"reasoning_effort\":\"none\"," + HI + "}", null},
            {"/v1/chat/completions", "{" + HI + "}", null},
            {"/v1/responses", "{\"model\":\"fake-model\",\"input\":\"Hi\",\"reasoning\":{\"effort\":\"medium\"}}", "medium"},
            {"/api/chat", "{\"model\":\"fake-model\",\"stream\":false,\"think\":\"low\","
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}", "low"},
            {"/api/chat", "{\"model\":\"fake-model\",\"stream\":false,\"think\":true,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}", null}};
        for (String[] c : cases) {
            model.lastEffort = "unset";
            ok(ts.post(c[0], c[1]));
            assertEquals(c[2], model.lastEffort, c[0] + " " + c[1]);
        }
    }

    @Test
    void ollamaAnswersThinking() throws Exception {
        String opts = ",\"options\":{\"num_predict\":" + MAX + "}";
        JsonNode chat = ok(ts.post("/api/chat", "{\"model\":\"fake-model\",\"stream\":false,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]" + opts + "}"));
        assertEquals(THOUGHT, chat.get("message").get("thinking").asText());
        assertEquals("Hello", chat.get("message").get("content").asText());

        StringBuilder thought = new StringBuilder(), content = new StringBuilder();
        for (String line : ts.post("/api/chat", "{\"model\":\"fake-model\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]"
                + opts + "}").body().split("\n")) {
            JsonNode m = TestServer.JSON.readTree(line).get("message");
            if (m.has("thinking")) thought.append(m.get("thinking").asText());
            content.append(m.get("content").asText());
        }
        assertEquals(THOUGHT, thought.toString());
        assertEquals("Hello", content.toString());

        JsonNode gen = ok(ts.post("/api/generate", "{\"model\":\"fake-model\",\"prompt\":\"Hi\",\"stream\":false" + opts + "}"));
        assertEquals(THOUGHT, gen.get("thinking").asText());
        assertEquals("Hello", gen.get("response").asText());
        JsonNode off = ok(ts.post("/api/generate", "{\"model\":\"fake-model\",\"prompt\":\"Hi\",\"stream\":false,\"think\":false"
                + opts + "}"));
        assertNull(off.get("thinking"));
        assertTrue(off.get("response").asText().startsWith("Hello, world!"), off.toString());
        assertEquals(200, ts.post("/api/generate", "{\"model\":\"fake-model\",\"prompt\":\"Hi\",\"stream\":false,\"think\":\"high\""
                + opts + "}").statusCode());
        assertEquals(400, ts.post("/api/generate", "{\"model\":\"fake-model\",\"prompt\":\"Hi\",\"think\":2" + opts + "}").statusCode());
        JsonNode show = ok(ts.post("/api/show", "{\"model\":\"fake-model\"}"));
        assertTrue(show.get("capabilities").toString().contains("\"thinking\""), show.toString());
    }

    @Test
    void responsesPutTheThinkingInAReasoningItem() throws Exception {
        String body = "{\"input\":\"Hi\",\"max_output_tokens\":" + MAX;
        JsonNode r = ok(ts.post("/v1/responses", body + "}"));
        JsonNode out = r.get("output");
        assertEquals("reasoning", out.get(0).get("type").asText());
        assertEquals(THOUGHT, out.get(0).get("content").get(0).get("text").asText());
        assertEquals("message", out.get(1).get("type").asText());
        assertEquals("Hello", ResponsesApiTest.text(r));
        assertEquals(FakeModel.THOUGHT.length() - 2, r.get("usage").get("output_tokens_details").get("reasoning_tokens").asInt());

        List<JsonNode> events = ResponsesApiTest.events(ts.post("/v1/responses", body + ",\"stream\":true}"));
        StringBuilder thought = new StringBuilder();
        for (JsonNode e : events) {
            if (e.get("type").asText().equals("response.reasoning_text.delta")) thought.append(e.get("delta").asText());
            if (e.get("type").asText().equals("response.output_text.delta")) assertEquals(1, e.get("output_index").asInt());
        }
        assertEquals(THOUGHT, thought.toString());
        JsonNode done = events.getLast().get("response");
        assertEquals(out.get(0).get("content"), done.get("output").get(0).get("content"));
        assertEquals("Hello", ResponsesApiTest.text(done));
        JsonNode off = ok(ts.post("/v1/responses", body + ",\"reasoning\":{\"effort\":\"none\"}}"));
        assertEquals("message", off.get("output").get(0).get("type").asText());
    }

    @Test
    void theServerSettingsDecideWhereTheRequestIsSilent() throws Exception {
        try (TestServer quiet = new TestServer(model, Map.of(Setting.REASONING_BUDGET, 0, Setting.REASONING_FORMAT, "none"))) {
            JsonNode msg = ok(quiet.post("/v1/chat/completions", "{" + HI + "}")).get("choices").get(0).get("message");
            assertTrue(msg.get("content").asText().startsWith("Hello, world!"), msg.toString());
            JsonNode asked = ok(quiet.post("/v1/chat/completions", "{\"think\":true," + HI + "}")).get("choices").get(0).get("message");
            assertEquals(FakeModel.THOUGHT + "Hello", asked.get("content").asText(), "format none: the thinking stays in the text");
        }
    }

    @Test
    void aSchemaHoldsAfterTheThinkingWhenThinkingIsAskedFor() {
        var defaults = PromptPreparer.ThinkingDefaults.SETTINGS;
        String schema = "\"response_format\":{\"type\":\"json_object\"},";
        Prepared off = PromptPreparer.prepare(RequestParser.parse(json("{" + schema + HI + "}"), true, List.of()),
                model, 512, 0, defaults);
        assertNull(off.params().grammar().trigger(), "by default the answer is JSON from its first token");
        assertTrue(model.detokenize(off.promptTokens()).endsWith("<think>\n\n</think>\n\n"), "and the model told not to think");
        Prepared on = PromptPreparer.prepare(RequestParser.parse(json("{" + schema + "\"think\":true," + HI + "}"), true,
                List.of()), model, 512, 0, defaults);
        assertEquals("</think>", on.params().grammar().trigger(), "asked to think: free until the thinking closes");
        var m = new io.flashllm.engine.grammar.GrammarMatcher(on.params().grammar());
        assertTrue(m.acceptText("</think>\n\n{\"a\": 1}") && m.canEnd());
    }

    static JsonNode json(String s) {
        try {
            return TestServer.JSON.readTree(s);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
