package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.server.config.Setting;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Non-streaming and streaming completions, chat, models, health and tokenize against a fake model. */
class CompletionsApiTest {
    static TestServer ts;

    @BeforeAll
    static void start() {
        ts = new TestServer(new FakeModel(0, 0, 256), Map.of(Setting.PARALLEL, 2));
    }

    @AfterAll
    static void stop() {
        ts.close();
    }

    @Test
    void textCompletion() throws Exception {
        HttpResponse<String> r = ts.post("/v1/completions",
                "{\"model\":\"fake-model\",\"prompt\":\"Hi\",\"max_tokens\":5,\"temperature\":0}");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"));
        JsonNode j = TestServer.json(r);
        assertTrue(j.get("id").asText().startsWith("cmpl-"));
        assertEquals("text_completion", j.get("object").asText());
        assertTrue(Math.abs(j.get("created").asLong() - System.currentTimeMillis() / 1000) < 60);
        assertEquals("fake-model", j.get("model").asText());
        assertEquals(1, j.get("choices").size());
        JsonNode c = j.get("choices").get(0);
        assertEquals(0, c.get("index").asInt());
        assertEquals("Hello", c.get("text").asText());
        assertTrue(c.get("logprobs").isNull());
        assertEquals("length", c.get("finish_reason").asText());
        JsonNode u = j.get("usage");
        assertEquals(3, u.get("prompt_tokens").asInt()); // BOS + 2 bytes
        assertEquals(5, u.get("completion_tokens").asInt());
        assertEquals(8, u.get("total_tokens").asInt());
        int cached = u.get("prompt_tokens_details").get("cached_tokens").asInt(-1);
        assertTrue(cached >= 0 && cached <= 2, u.toString()); // the last prompt token always runs
    }

    @Test
    void promptAsArrayOfOneStringAndStopString() throws Exception {
        HttpResponse<String> r = ts.post("/v1/completions",
                "{\"prompt\":[\"Hi\"],\"max_tokens\":20,\"stop\":[\"world\"]}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode c = TestServer.json(r).get("choices").get(0);
        // The fake engine ends at the token that completes the stop string (it holds nothing back).
        assertEquals("Hello, worl", c.get("text").asText());
        assertEquals("stop", c.get("finish_reason").asText());
    }

    @Test
    void completionsDefaultToSixteenTokensAndEcho() throws Exception {
        HttpResponse<String> r = ts.post("/v1/completions", "{\"prompt\":\"Q: \",\"echo\":true}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode j = TestServer.json(r);
        assertEquals(16, j.get("usage").get("completion_tokens").asInt());
        assertEquals("Q: Hello, world! He", j.get("choices").get(0).get("text").asText());
    }

    @Test
    void completionLogprobs() throws Exception {
        HttpResponse<String> r = ts.post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":3,\"logprobs\":2}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode lp = TestServer.json(r).get("choices").get(0).get("logprobs");
        assertEquals(List.of("H", "e", "l"), texts(lp.get("tokens")));
        assertEquals(-0.25, lp.get("token_logprobs").get(0).asDouble(), 1e-6);
        assertEquals(2, lp.get("top_logprobs").get(1).size());
        assertEquals(-0.25, lp.get("top_logprobs").get(1).get("e").asDouble(), 1e-6);
        assertEquals(List.of("0", "1", "2"), texts(lp.get("text_offset")));
    }

    private static List<String> texts(JsonNode arr) {
        List<String> out = new ArrayList<>();
        arr.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void chatCompletion() throws Exception {
        HttpResponse<String> r = ts.post("/v1/chat/completions", """
                {"model":"fake-model","messages":[{"role":"system","content":"Be brief."},
                 {"role":"user","content":[{"type":"text","text":"Hi"},{"type":"text","text":" there"}]}],
                 "max_completion_tokens":4,"seed":7,"user":"u1","logprobs":true,"top_logprobs":2}""");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode j = TestServer.json(r);
        assertTrue(j.get("id").asText().startsWith("chatcmpl-"));
        assertEquals("chat.completion", j.get("object").asText());
        JsonNode c = j.get("choices").get(0);
        assertEquals("assistant", c.get("message").get("role").asText());
        assertEquals("Hell", c.get("message").get("content").asText());
        assertEquals("length", c.get("finish_reason").asText());
        String rendered = "<system>Be brief.\n<user>Hi there\n<assistant>";
        assertEquals(rendered.length() + 1, j.get("usage").get("prompt_tokens").asInt());
        JsonNode first = c.get("logprobs").get("content").get(0);
        assertEquals("H", first.get("token").asText());
        assertEquals(-0.25, first.get("logprob").asDouble(), 1e-6);
        assertEquals(72, first.get("bytes").get(0).asInt());
        assertEquals(2, first.get("top_logprobs").size());
        assertEquals("H", first.get("top_logprobs").get(0).get("token").asText());
    }

    @Test
    void chatEndsWithStopAtEos() throws Exception {
        HttpResponse<String> r = ts.post("/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"[eos]\"}]}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode j = TestServer.json(r);
        assertEquals("stop", j.get("choices").get(0).get("finish_reason").asText());
        assertEquals("Hello", j.get("choices").get(0).get("message").get("content").asText());
        assertEquals(5, j.get("usage").get("completion_tokens").asInt());
    }

    @Test
    void streamingChatWithUsage() throws Exception {
        HttpResponse<String> r = ts.post("/v1/chat/completions", """
                {"messages":[{"role":"user","content":"Hi"}],"max_tokens":6,"stream":true,
                 "stream_options":{"include_usage":true}}""");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<SseParser.Event> events = new ArrayList<>(SseParser.parse(r.body()));
        events.removeIf(e -> e.comment() != null);
        assertEquals("[DONE]", events.getLast().data());
        List<JsonNode> chunks = new ArrayList<>();
        for (SseParser.Event e : events.subList(0, events.size() - 1)) chunks.add(TestServer.JSON.readTree(e.data()));
        String id = chunks.getFirst().get("id").asText();
        long created = chunks.getFirst().get("created").asLong();
        StringBuilder content = new StringBuilder();
        for (int i = 0; i < chunks.size(); i++) {
            JsonNode ch = chunks.get(i);
            assertEquals(id, ch.get("id").asText());
            assertEquals(created, ch.get("created").asLong());
            assertEquals("chat.completion.chunk", ch.get("object").asText());
            assertEquals("fake-model", ch.get("model").asText());
            boolean usageChunk = i == chunks.size() - 1;
            if (usageChunk) {
                assertEquals(0, ch.get("choices").size());
                assertEquals(6, ch.get("usage").get("completion_tokens").asInt());
                assertEquals(ch.get("usage").get("prompt_tokens").asInt() + 6, ch.get("usage").get("total_tokens").asInt());
                int cached = ch.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt(-1);
                assertTrue(cached >= 0 && cached < ch.get("usage").get("prompt_tokens").asInt(), ch.toString());
                continue;
            }
            assertTrue(ch.get("usage").isNull());
            JsonNode c = ch.get("choices").get(0);
            assertEquals(0, c.get("index").asInt());
            JsonNode delta = c.get("delta");
            if (i == 0) {
                assertEquals("assistant", delta.get("role").asText());
                assertEquals("", delta.get("content").asText());
            }
            if (i == chunks.size() - 2) {
                assertEquals("length", c.get("finish_reason").asText());
                assertTrue(delta.isEmpty());
            } else {
                assertTrue(c.get("finish_reason").isNull());
                content.append(delta.get("content").asText());
            }
        }
        assertEquals("Hello,", content.toString());
    }

    @Test
    void streamingCompletionWithoutUsage() throws Exception {
        HttpResponse<String> r = ts.post("/v1/completions", "{\"prompt\":\"Hi\",\"max_tokens\":3,\"stream\":true}");
        assertEquals(200, r.statusCode(), r.body());
        List<SseParser.Event> events = SseParser.parse(r.body());
        StringBuilder text = new StringBuilder();
        String finish = null;
        int chunks = 0;
        for (SseParser.Event e : events) {
            if (e.comment() != null || e.data().equals("[DONE]")) continue;
            JsonNode ch = TestServer.JSON.readTree(e.data());
            assertEquals("text_completion", ch.get("object").asText());
            assertFalse(ch.has("usage"));
            JsonNode c = ch.get("choices").get(0);
            text.append(c.get("text").asText());
            if (!c.get("finish_reason").isNull()) finish = c.get("finish_reason").asText();
            chunks++;
        }
        assertEquals("[DONE]", events.getLast().data());
        assertEquals("Hel", text.toString());
        assertEquals("length", finish);
        assertEquals(4, chunks);
    }

    @Test
    void modelsAndHealth() throws Exception {
        HttpResponse<String> h = ts.get("/health");
        assertEquals(200, h.statusCode());
        assertEquals("ok", TestServer.json(h).get("status").asText());
        JsonNode list = TestServer.json(ts.get("/v1/models"));
        assertEquals("list", list.get("object").asText());
        JsonNode m = list.get("data").get(0);
        assertEquals("fake-model", m.get("id").asText());
        assertEquals("model", m.get("object").asText());
        assertEquals("flashllm", m.get("owned_by").asText());
        assertEquals(256, m.get("meta").get("context_length").asInt());
        HttpResponse<String> one = ts.get("/v1/models/fake-model");
        assertEquals(200, one.statusCode());
        assertEquals("fake-model", TestServer.json(one).get("id").asText());
        HttpResponse<String> missing = ts.get("/v1/models/nope");
        assertEquals(404, missing.statusCode());
        assertEquals("model_not_found", TestServer.json(missing).get("error").get("code").asText());
    }

    @Test
    void tokenizeAndDetokenize() throws Exception {
        JsonNode t = TestServer.json(ts.post("/tokenize", "{\"content\":\"Hi\"}"));
        assertEquals("[72,105]", t.get("tokens").toString());
        JsonNode ts2 = TestServer.json(ts.post("/tokenize", "{\"content\":\"Hi\",\"add_special\":true,\"with_pieces\":true}"));
        assertEquals(256, ts2.get("tokens").get(0).get("id").asInt());
        assertEquals("H", ts2.get("tokens").get(1).get("piece").asText());
        JsonNode d = TestServer.json(ts.post("/detokenize", "{\"tokens\":[72,105]}"));
        assertEquals("Hi", d.get("content").asText());
        assertNotNull(d);
    }
}
