package io.flashllm.server.http;

import static io.flashllm.server.http.TestServer.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** llama.cpp's own endpoints (/completion, /props, /embedding) on a real server over the real engine. */
class LlamaCppApiTest {
    static final String GREEDY = "{\"prompt\":\"Once upon a time\",\"n_predict\":12,\"temperature\":0";

    @RegisterExtension
    static final TinyEngine tiny = new TinyEngine(2048, 256, 1);

    /** The JSON of each {@code data:} event of a stream. */
    static List<JsonNode> events(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        List<JsonNode> out = new ArrayList<>();
        for (String line : r.body().split("\n")) {
            if (line.isEmpty()) continue;
            assertTrue(line.startsWith("data: "), "every line is a data event: " + line);
            out.add(TestServer.JSON.readTree(line.substring(6)));
        }
        return out;
    }

    @Test
    void completionAnswersAsLlamaServerAndAsTheOpenAiEndpointDoes() throws Exception {
        JsonNode whole = ok(tiny.server().post("/completion", GREEDY + ",\"return_tokens\":true}"));
        String content = whole.get("content").asText();
        assertTrue(whole.get("stop").asBoolean());
        assertEquals("tiny-llama", whole.get("model").asText());
        int predicted = whole.get("tokens_predicted").asInt();
        assertTrue(predicted >= 1 && predicted <= 12, whole.toString());
        assertEquals(predicted, whole.get("tokens").size());
        assertEquals(predicted == 12 ? "limit" : "eos", whole.get("stop_type").asText());
        assertEquals("", whole.get("stopping_word").asText());
        int promptTokens = tiny.model().tokenize("Once upon a time", true).length;
        assertEquals(promptTokens, whole.get("tokens_evaluated").asInt());
        assertEquals(256, whole.get("generation_settings").get("n_ctx").asInt());
        assertEquals(12, whole.get("generation_settings").get("n_predict").asInt());
        JsonNode timings = whole.get("timings");
        assertEquals(predicted, timings.get("predicted_n").asInt());
        assertTrue(timings.get("predicted_per_second").asDouble() > 0, timings.toString());
        assertEquals(timings.get("prompt_n").asInt() + whole.get("tokens_cached").asInt(), promptTokens);

        // The same greedy answer through OpenAI's endpoint, and the returned ids spell it.
        JsonNode openAi = ok(tiny.server().post("/v1/completions", "{\"prompt\":\"Once upon a time\",\"max_tokens\":12,\"temperature\":0}"));
        assertEquals(openAi.get("choices").get(0).get("text").asText(), content);
        StringBuilder ids = new StringBuilder();
        for (JsonNode t : whole.get("tokens")) ids.append(ids.isEmpty() ? "" : ",").append(t.asInt());
        JsonNode detok = ok(tiny.server().post("/detokenize", "{\"tokens\":[" + ids + "]}"));
        assertEquals(content, detok.get("content").asText());
        // Without return_tokens the list is empty, as llama-server leaves it.
        assertEquals(0, ok(tiny.server().post("/completions", GREEDY + "}")).get("tokens").size());
    }

    @Test
    void aStreamIsDataEventsEndingWithStopTrueAndNoDone() throws Exception {
        String whole = ok(tiny.server().post("/completion", GREEDY + "}")).get("content").asText();
        List<JsonNode> ev = events(tiny.server().post("/completion", GREEDY + ",\"stream\":true}"));
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < ev.size() - 1; i++) {
            JsonNode e = ev.get(i);
            assertFalse(e.get("stop").asBoolean());
            assertEquals(1, e.get("tokens").size(), e.toString());
            assertEquals(i + 1, e.get("tokens_predicted").asInt());
            text.append(e.get("content").asText());
        }
        JsonNode last = ev.getLast();
        assertTrue(last.get("stop").asBoolean());
        assertEquals("", last.get("content").asText());
        assertEquals(ev.size() - 1, last.get("tokens_predicted").asInt());
        assertTrue(last.has("timings") && last.has("stop_type"), last.toString());
        assertEquals(whole, text.toString());
    }

    @Test
    void aStopWordEndsTheAnswerAndIsNamed() throws Exception {
        String whole = ok(tiny.server().post("/completion", GREEDY + "}")).get("content").asText();
        assertTrue(whole.length() >= 6, "enough text to pick a stop word from: '" + whole + "'");
        String word = whole.substring(3, 5);
        int at = whole.indexOf(word);
        JsonNode r = ok(tiny.server().post("/completion", GREEDY + ",\"stop\":[" + TestServer.JSON.writeValueAsString(word) + "]}"));
        assertEquals(whole.substring(0, at), r.get("content").asText());
        assertEquals("word", r.get("stop_type").asText());
        assertEquals(word, r.get("stopping_word").asText());
    }

    @Test
    void nProbsAndLogitBias() throws Exception {
        JsonNode r = ok(tiny.server().post("/completion", GREEDY + ",\"n_probs\":3,\"return_tokens\":true}"));
        JsonNode probs = r.get("completion_probabilities");
        assertEquals(r.get("tokens").size(), probs.size());
        for (int i = 0; i < probs.size(); i++) {
            JsonNode p = probs.get(i);
            assertEquals(r.get("tokens").get(i).asInt(), p.get("id").asInt());
            assertTrue(p.get("logprob").asDouble() <= 0);
            assertEquals(3, p.get("top_logprobs").size());
            // Greedy: the chosen token is the most likely one.
            assertEquals(p.get("id").asInt(), p.get("top_logprobs").get(0).get("id").asInt());
            byte[] bytes = p.get("token").asText().getBytes(StandardCharsets.UTF_8);
            assertEquals(bytes.length, p.get("bytes").size());
        }
        int first = r.get("tokens").get(0).asInt();
        JsonNode banned = ok(tiny.server().post("/completion", GREEDY + ",\"return_tokens\":true,\"logit_bias\":[[" + first + ",false]]}"));
        assertNotEquals(first, banned.get("tokens").get(0).asInt(), "false bans the token");
        JsonNode forced = ok(tiny.server().post("/completion", GREEDY + ",\"return_tokens\":true,\"n_predict\":3,\"logit_bias\":[[300,100]]}"));
        for (JsonNode t : forced.get("tokens")) assertEquals(300, t.asInt());
        JsonNode objectForm = ok(tiny.server().post("/completion", GREEDY + ",\"return_tokens\":true,\"n_predict\":3,\"logit_bias\":{\"300\":100}}"));
        assertEquals(forced.get("tokens"), objectForm.get("tokens"));
    }

    @Test
    void jsonSchemaHoldsTheAnswer() throws Exception {
        JsonNode r = ok(tiny.server().post("/completion", "{\"prompt\":\"A pet:\",\"n_predict\":200,\"seed\":4,"
                + "\"json_schema\":{\"type\":\"object\",\"properties\":{\"legs\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":8}},"
                + "\"required\":[\"legs\"]}}"));
        JsonNode doc = TestServer.JSON.readTree(r.get("content").asText());
        int legs = doc.get("legs").asInt();
        assertTrue(legs >= 0 && legs <= 8, doc.toString());
    }

    @Test
    void badRequestsAreRefused() throws Exception {
        String[][] cases = {
                {"{}", "'prompt' is required"},
                {"{\"prompt\":\"a\",\"n_predict\":0}", "'n_predict' must be -1 (until the context is full) or at least 1"},
                {"{\"prompt\":\"a\",\"mirostat\":2}", "mirostat sampling is not supported"},
                {"{\"prompt\":\"a\",\"ignore_eos\":true}", "ignore_eos is not supported"},
                {"{\"prompt\":[\"a\",\"b\"]}", "One prompt per request, as text or as token ids (not several, not mixed)"},
                {"{\"prompt\":[1,\"b\"]}", "One prompt per request, as text or as token ids (not several, not mixed)"},
                {"{\"prompt\":{}}", "'prompt' must be a string or an array of token ids"},
                {"{\"prompt\":\"a\",\"logit_bias\":[[1]]}",
                        "'logit_bias' must be a list of [token id, bias or false] pairs, or an object of token ids to numbers"},
                {"{\"prompt\":\"a\",\"logit_bias\":[[1,true]]}", "'logit_bias' biases must be numbers from -100 to 100, or false (token 1)"},
                {"{\"prompt\":\"a\",\"n_probs\":21}", "'n_probs' must be between 0 and 20, got 21"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = tiny.server().post("/completion", c[0]);
            assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
            assertEquals(c[1], TestServer.json(r).get("error").get("message").asText(), c[0]);
        }
    }

    @Test
    void propsAndEmbedding() throws Exception {
        JsonNode props = ok(tiny.server().get("/props"));
        assertEquals(256, props.get("default_generation_settings").get("n_ctx").asInt());
        assertEquals(1, props.get("total_slots").asInt());
        assertEquals("tiny-llama", props.get("model_alias").asText());
        assertEquals(0.8, props.get("default_generation_settings").get("params").get("temperature").asDouble(), 1e-9);

        JsonNode native_ = ok(tiny.server().post("/embedding", "{\"content\":\"The sky is blue\"}"));
        JsonNode openAi = ok(tiny.server().post("/v1/embeddings", "{\"input\":\"The sky is blue\"}"));
        assertEquals(1, native_.size());
        assertEquals(0, native_.get(0).get("index").asInt());
        JsonNode rows = native_.get(0).get("embedding");
        assertEquals(1, rows.size(), "one pooled row");
        // Two requests agree up to the JIT's reordered sums (a warm JVM moves a value by ~1e-6), not bit for bit.
        JsonNode expected = openAi.get("data").get(0).get("embedding");
        assertEquals(expected.size(), rows.get(0).size());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i).floatValue(), rows.get(0).get(i).floatValue(), 1e-4, "value " + i);
        }
        JsonNode two = ok(tiny.server().post("/embeddings", "{\"content\":[\"a\",\"b\"]}"));
        assertEquals(2, two.size());
        assertEquals(1, two.get(1).get("index").asInt());
        HttpResponse<String> missing = tiny.server().post("/embedding", "{}");
        assertEquals(400, missing.statusCode());
        assertEquals("'content' is required", TestServer.json(missing).get("error").get("message").asText());
    }
}
