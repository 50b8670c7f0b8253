package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The server over the real engine: a tiny random-weight Llama written by synth, loaded by
 * ModelLoader. Its text is meaningless, so the checks are about agreement: streamed and whole
 * answers match under greedy sampling, token counts match /tokenize, seeds reproduce, logprobs are
 * consistent, and a disconnect frees the slot.
 */
class RealEngineTest {
    @RegisterExtension
    static final TinyEngine tiny = new TinyEngine(512, 256, 2);

    private static String streamedText(HttpResponse<String> r, boolean chat) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        List<SseParser.Event> events = SseParser.parse(r.body());
        assertEquals("[DONE]", events.getLast().data());
        StringBuilder b = new StringBuilder();
        for (SseParser.Event e : events) {
            if (e.comment() != null || e.data().equals("[DONE]")) continue;
            JsonNode ch = TestServer.JSON.readTree(e.data());
            if (ch.get("choices").isEmpty()) continue;
            JsonNode c = ch.get("choices").get(0);
            JsonNode piece = chat ? c.get("delta").get("content") : c.get("text");
            if (piece != null) b.append(piece.asText());
        }
        return b.toString();
    }

    @Test
    void greedyStreamMatchesWholeAnswerAndCountsMatchTokenize() throws Exception {
        String body = "{\"model\":\"tiny-llama\",\"prompt\":\"Once upon a time\",\"max_tokens\":12,\"temperature\":0";
        HttpResponse<String> whole = tiny.server().post("/v1/completions", body + "}");
        assertEquals(200, whole.statusCode(), whole.body());
        JsonNode j = TestServer.json(whole);
        String text = j.get("choices").get(0).get("text").asText();
        String stream = streamedText(tiny.server().post("/v1/completions", body + ",\"stream\":true}"), false);
        assertEquals(text, stream);

        JsonNode tok = TestServer.json(tiny.server().post("/tokenize", "{\"content\":\"Once upon a time\",\"add_special\":true}"));
        assertEquals(tok.get("tokens").size(), j.get("usage").get("prompt_tokens").asInt());
        int completion = j.get("usage").get("completion_tokens").asInt();
        assertTrue(completion >= 1 && completion <= 12, "completion tokens " + completion);
        String finish = j.get("choices").get(0).get("finish_reason").asText();
        assertTrue(finish.equals("stop") || (finish.equals("length") && completion == 12), finish + " after " + completion);
    }

    @Test
    void chatStreamsWithUsageAndSeedsReproduce() throws Exception {
        String body = "{\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"},{\"role\":\"user\",\"content\":\"Hello!\"}],"
                + "\"max_tokens\":10,\"temperature\":0.9,\"seed\":1234";
        HttpResponse<String> a = tiny.server().post("/v1/chat/completions", body + "}");
        HttpResponse<String> b = tiny.server().post("/v1/chat/completions", body + "}");
        assertEquals(200, a.statusCode(), a.body());
        String ta = TestServer.json(a).get("choices").get(0).get("message").get("content").asText();
        assertEquals(ta, TestServer.json(b).get("choices").get(0).get("message").get("content").asText());
        HttpResponse<String> s = tiny.server().post("/v1/chat/completions", body + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        assertEquals(ta, streamedText(s, true));
        List<SseParser.Event> ev = SseParser.parse(s.body());
        JsonNode usage = TestServer.JSON.readTree(ev.get(ev.size() - 2).data());
        assertEquals(0, usage.get("choices").size());
        JsonNode first = TestServer.json(a).get("usage");
        for (String field : List.of("prompt_tokens", "completion_tokens", "total_tokens")) {
            assertEquals(first.get(field), usage.get("usage").get(field), field);
        }
        // The same conversation again goes to the slot that holds it: all but its last prompt token
        // come from the KV cache, and the seeded sample is the same as when the prompt ran whole.
        int prompt = first.get("prompt_tokens").asInt();
        assertEquals(prompt - 1, TestServer.json(b).get("usage").get("prompt_tokens_details").get("cached_tokens").asInt());
        assertEquals(prompt - 1, usage.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt());
    }

    @Test
    void logprobsAreConsistentUnderGreedySampling() throws Exception {
        HttpResponse<String> r = tiny.server().post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
                + "\"max_tokens\":5,\"temperature\":0,\"logprobs\":true,\"top_logprobs\":3}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode content = TestServer.json(r).get("choices").get(0).get("logprobs").get("content");
        assertTrue(content.size() >= 1);
        for (JsonNode e : content) {
            double lp = e.get("logprob").asDouble();
            assertTrue(lp <= 0, "logprob " + lp);
            JsonNode tops = e.get("top_logprobs");
            assertEquals(3, tops.size());
            for (int i = 1; i < tops.size(); i++) {
                assertTrue(tops.get(i - 1).get("logprob").asDouble() >= tops.get(i).get("logprob").asDouble());
            }
            // Greedy picks the most likely token.
            assertEquals(tops.get(0).get("logprob").asDouble(), lp, 1e-4);
        }
    }

    @Test
    void concurrentSlotsGiveTheSameGreedyAnswers() throws Exception {
        String body = "{\"prompt\":\"The quick brown fox\",\"max_tokens\":8,\"temperature\":0";
        String expected = TestServer.json(tiny.server().post("/v1/completions", body + "}")).get("choices").get(0).get("text").asText();
        List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> fs = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            fs.add(tiny.server().client.sendAsync(tiny.server().request("/v1/completions").POST(java.net.http.HttpRequest.BodyPublishers
                    .ofString(body + ",\"stream\":" + (i % 2 == 0) + "}")).build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < fs.size(); i++) {
            HttpResponse<String> r = fs.get(i).get(60, java.util.concurrent.TimeUnit.SECONDS);
            String text = i % 2 == 0 ? streamedText(r, false)
                    : TestServer.json(r).get("choices").get(0).get("text").asText();
            assertEquals(expected, text, "request " + i);
        }
        assertTrue(TestServer.eventually(2_000, () -> tiny.server().server.running() == 0 && tiny.server().server.queued() == 0));
    }

    @Test
    void contextLimitAndDisconnect() throws Exception {
        HttpResponse<String> tooLong = tiny.server().post("/v1/completions", "{\"prompt\":\"Hi\",\"max_tokens\":255}");
        assertEquals(400, tooLong.statusCode());
        assertEquals("context_length_exceeded", TestServer.json(tooLong).get("error").get("code").asText());

        RawClient c = new RawClient(tiny.server().port, "POST", "/v1/completions",
                "{\"prompt\":\"Hi\",\"max_tokens\":240,\"stream\":true,\"temperature\":1,\"seed\":3}", null);
        c.readUntil("\"text\"");
        c.close();
        assertTrue(TestServer.eventually(3_000, () -> tiny.server().server.running() == 0));
        assertEquals(200, tiny.server().post("/v1/completions", "{\"prompt\":\"Hi\",\"max_tokens\":2}").statusCode());
    }
    /**
     * lm-eval's log-likelihood request (local-completions, tokenized): the prompt's own log-probabilities
     * come back first, the first without a value, each as the engine scores it (the engine's scores are
     * checked against the reference forward pass in EmbedAndScoreTest), then the one generated token's.
     */
    @Test
    void echoWithLogprobsScoresThePromptAsLmEvalReadsIt() throws Exception {
        int[] prompt = tiny.model().tokenize("The quick brown fox jumps over", true);
        StringBuilder ids = new StringBuilder();
        for (int t : prompt) ids.append(ids.isEmpty() ? "" : ",").append(t);
        JsonNode r = TestServer.json(tiny.server().post("/v1/completions", "{\"model\":\"tiny-llama\",\"prompt\":[[" + ids
                + "]],\"temperature\":0,\"max_tokens\":1,\"logprobs\":1,\"seed\":1234,\"echo\":true}"));
        JsonNode lp = r.get("choices").get(0).get("logprobs");
        JsonNode values = lp.get("token_logprobs");
        assertEquals(prompt.length + 1, values.size(), lp.toString());
        assertTrue(values.get(0).isNull());
        assertTrue(lp.get("top_logprobs").get(0).isNull());
        io.flashllm.engine.api.PromptLogprobs expected;
        try (io.flashllm.engine.api.Session s = tiny.model().openSession(256)) {
            expected = s.scorePrompt(prompt, 1, null);
        }
        for (int i = 1; i < prompt.length; i++) {
            assertEquals(expected.logprobs()[i], values.get(i).floatValue(), 1e-4, "prompt token " + i);
            JsonNode top = lp.get("top_logprobs").get(i);
            assertEquals(1, top.size());
            assertEquals(tiny.model().detokenize(new int[] {expected.topIds()[i][0]}), top.fieldNames().next());
            assertEquals(tiny.model().detokenize(new int[] {prompt[i]}), lp.get("tokens").get(i).asText());
        }
        // The generated token, greedy: its own log-probability is the best one shown.
        JsonNode lastTop = lp.get("top_logprobs").get(prompt.length);
        assertEquals(lastTop.elements().next().floatValue(), values.get(prompt.length).floatValue(), 1e-6);
        String text = r.get("choices").get(0).get("text").asText();
        assertTrue(text.startsWith(tiny.model().detokenize(prompt)), text);
        assertEquals(0, r.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt(),
                "scoring ran the whole prompt (the generation then reused it within the request)");

        HttpResponse<String> streamed = tiny.server().post("/v1/completions",
                "{\"prompt\":\"x\",\"echo\":true,\"logprobs\":1,\"stream\":true}");
        assertEquals(400, streamed.statusCode());
        assertEquals("echo with logprobs (the prompt's own log-probabilities) is served without stream",
                TestServer.json(streamed).get("error").get("message").asText());
    }
}
