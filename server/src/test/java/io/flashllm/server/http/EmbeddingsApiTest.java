package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static io.flashllm.server.http.TestServer.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.engine.api.Pooling;
import io.flashllm.engine.api.Session;
import io.flashllm.server.config.Setting;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * /v1/embeddings, /api/embed and /api/embeddings on a real server over the real engine, each answer
 * against the engine's own session embedding of the same tokens normalized here; the engine's
 * embeddings are checked against the reference forward pass in the engine's EmbedAndScoreTest.
 */
class EmbeddingsApiTest {
    static final String SKY = "Why is the sky blue?";
    static final String SEA = "The sea is blue because it reflects the sky.";

    @RegisterExtension
    static final TinyEngine tiny = new TinyEngine(2048, 256, 1);

    /** What the engine gives for these tokens, pooled as asked, unnormalized. */
    static float[] engine(int[] tokens, Pooling pooling) {
        try (Session s = tiny.model().openSession(256)) {
            return s.embed(tokens, pooling, null);
        }
    }

    static float[] unit(float[] v) {
        double sum = 0;
        for (float x : v) sum += (double) x * x;
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (float) (v[i] / Math.sqrt(sum));
        return out;
    }

    static float[] floats(JsonNode array) {
        float[] v = new float[array.size()];
        for (int i = 0; i < v.length; i++) v[i] = array.get(i).floatValue();
        return v;
    }

    static void assertNear(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": width");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5, what + " [" + i + "]");
        }
    }

    @Test
    void openAiEmbedsTextAsTheEngineDoesNormalized() throws Exception {
        JsonNode r = ok(tiny.server().post("/v1/embeddings", "{\"model\":\"tiny-llama\",\"input\":\"" + SKY + "\"}"));
        int[] tokens = tiny.model().tokenize(SKY, true);
        assertEquals("list", r.get("object").asText());
        assertEquals("tiny-llama", r.get("model").asText());
        assertEquals(1, r.get("data").size());
        JsonNode item = r.get("data").get(0);
        assertEquals("embedding", item.get("object").asText());
        assertEquals(0, item.get("index").asInt());
        float[] v = floats(item.get("embedding"));
        assertEquals(64, v.length);
        assertNear(unit(engine(tokens, Pooling.LAST)), v, "last-token pooling by default");
        assertEquals(tokens.length, r.get("usage").get("prompt_tokens").asInt());
        assertEquals(tokens.length, r.get("usage").get("total_tokens").asInt());
    }

    @Test
    void base64CarriesTheSameFloats() throws Exception {
        String body = "{\"input\":\"" + SEA + "\"";
        float[] plain = floats(ok(tiny.server().post("/v1/embeddings", body + ",\"encoding_format\":\"float\"}")).get("data").get(0).get("embedding"));
        String b64 = ok(tiny.server().post("/v1/embeddings", body + ",\"encoding_format\":\"base64\"}")).get("data").get(0).get("embedding").asText();
        ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(b64)).order(ByteOrder.LITTLE_ENDIAN);
        float[] decoded = new float[bytes.remaining() / 4];
        for (int i = 0; i < decoded.length; i++) decoded[i] = bytes.getFloat();
        assertArrayEquals(plain, decoded);
    }

    @Test
    void aBatchAnswersInOrderAsSingleRequestsDo() throws Exception {
        int[] seaTokens = tiny.model().tokenize(SEA, true);
        StringBuilder ids = new StringBuilder();
        for (int t : seaTokens) ids.append(ids.isEmpty() ? "" : ",").append(t);
        JsonNode r = ok(tiny.server().post("/v1/embeddings", "{\"input\":[\"" + SKY + "\",\"" + SEA + "\",[" + ids + "]]}"));
        assertEquals(3, r.get("data").size());
        for (int i = 0; i < 3; i++) assertEquals(i, r.get("data").get(i).get("index").asInt());
        float[] sky = floats(ok(tiny.server().post("/v1/embeddings", "{\"input\":\"" + SKY + "\"}")).get("data").get(0).get("embedding"));
        float[] sea = floats(ok(tiny.server().post("/v1/embeddings", "{\"input\":[\"" + SEA + "\"]}")).get("data").get(0).get("embedding"));
        assertNear(sky, floats(r.get("data").get(0).get("embedding")), "first of the batch");
        assertNear(sea, floats(r.get("data").get(1).get("embedding")), "second of the batch");
        assertNear(sea, floats(r.get("data").get(2).get("embedding")), "token ids as the text's tokens");
        assertEquals(tiny.model().tokenize(SKY, true).length + 2 * seaTokens.length, r.get("usage").get("prompt_tokens").asInt());
        // One token-id list alone.
        JsonNode alone = ok(tiny.server().post("/v1/embeddings", "{\"input\":[" + ids + "]}"));
        assertNear(sea, floats(alone.get("data").get(0).get("embedding")), "a flat token-id list");
    }

    @Test
    void dimensionsCutThenNormalize() throws Exception {
        int[] tokens = tiny.model().tokenize(SKY, true);
        float[] raw = engine(tokens, Pooling.LAST);
        float[] cut = new float[16];
        System.arraycopy(raw, 0, cut, 0, 16);
        JsonNode r = ok(tiny.server().post("/v1/embeddings", "{\"input\":\"" + SKY + "\",\"dimensions\":16}"));
        assertNear(unit(cut), floats(r.get("data").get(0).get("embedding")), "16 dimensions");
        JsonNode o = ok(tiny.server().post("/api/embed", "{\"model\":\"tiny-llama\",\"input\":\"" + SKY + "\",\"dimensions\":16}"));
        assertNear(unit(cut), floats(o.get("embeddings").get(0)), "Ollama's dimensions");
    }

    @Test
    void ollamaEmbedAndTheOlderEmbeddings() throws Exception {
        int[] sky = tiny.model().tokenize(SKY, true);
        int[] sea = tiny.model().tokenize(SEA, true);
        JsonNode one = ok(tiny.server().post("/api/embed", "{\"model\":\"tiny-llama:latest\",\"input\":\"" + SKY + "\"}"));
        assertEquals("tiny-llama:latest", one.get("model").asText());
        assertEquals(1, one.get("embeddings").size());
        assertNear(unit(engine(sky, Pooling.LAST)), floats(one.get("embeddings").get(0)), "/api/embed");
        assertEquals(sky.length, one.get("prompt_eval_count").asInt());
        assertTrue(one.get("total_duration").asLong() > 0);

        JsonNode two = ok(tiny.server().post("/api/embed", "{\"model\":\"tiny-llama\",\"input\":[\"" + SKY + "\",\"" + SEA + "\"]}"));
        assertEquals(2, two.get("embeddings").size());
        assertNear(unit(engine(sea, Pooling.LAST)), floats(two.get("embeddings").get(1)), "/api/embed second input");

        // The older endpoint answers the vector as it comes, not normalized.
        JsonNode legacy = ok(tiny.server().post("/api/embeddings", "{\"model\":\"tiny-llama\",\"prompt\":\"" + SKY + "\"}"));
        assertNear(engine(sky, Pooling.LAST), floats(legacy.get("embedding")), "/api/embeddings");

        // No input only loads the model.
        JsonNode load = ok(tiny.server().post("/api/embed", "{\"model\":\"tiny-llama\"}"));
        assertEquals(0, load.get("embeddings").size());
        assertEquals(0, ok(tiny.server().post("/api/embeddings", "{\"model\":\"tiny-llama\",\"prompt\":\"\"}")).get("embedding").size());
    }

    @Test
    void inputsLongerThanTheContextAreCutOrRefused() throws Exception {
        String words = "blue ".repeat(400);
        int[] tokens = tiny.model().tokenize(words, true);
        assertTrue(tokens.length > 256, "the text outgrows the 256-token context: " + tokens.length);
        int[] first = java.util.Arrays.copyOf(tokens, 256);

        JsonNode cut = ok(tiny.server().post("/api/embed", "{\"model\":\"tiny-llama\",\"input\":\"" + words + "\"}"));
        assertNear(unit(engine(first, Pooling.LAST)), floats(cut.get("embeddings").get(0)), "Ollama truncates by default");
        assertEquals(256, cut.get("prompt_eval_count").asInt());

        HttpResponse<String> refused = tiny.server().post("/api/embed", "{\"model\":\"tiny-llama\",\"input\":\"" + words + "\",\"truncate\":false}");
        assertEquals(400, refused.statusCode());
        assertEquals("Input 0 has " + tokens.length + " tokens; this server embeds at most 256 at once",
                TestServer.json(refused).get("error").asText());

        HttpResponse<String> openAi = tiny.server().post("/v1/embeddings", "{\"input\":[\"a\",\"" + words + "\"]}");
        assertEquals(400, openAi.statusCode());
        JsonNode err = TestServer.json(openAi).get("error");
        assertEquals("context_length_exceeded", err.get("code").asText());
        assertTrue(err.get("message").asText().startsWith("Input 1 has "), err.toString());
    }

    @Test
    void badRequestsGetClearErrors() throws Exception {
        String[][] cases = {
                {"{}", "'input' is required"},
                {"{\"input\":\"\"}", "'input' is an empty string; there is nothing to embed"},
                {"{\"input\":[\"a\",\"\"]}", "'input[1]' is an empty string; there is nothing to embed"},
                {"{\"input\":[]}", "'input' is an empty array; there is nothing to embed"},
                {"{\"input\":[[]]}", "'input[0]' is an empty list of token ids"},
                {"{\"input\":{\"text\":\"a\"}}", "'input' must be a string, an array of strings, an array of token ids or an array of such arrays"},
                {"{\"input\":[1,\"a\"]}", "'input' must hold token ids (integers >= 0)"},
                {"{\"input\":[-1]}", "'input' must hold token ids (integers >= 0)"},
                {"{\"input\":[[5, 2.5]]}", "'input[0]' must hold token ids (integers >= 0)"},
                {"{\"input\":[999999]}", "Token id 999999 is outside the vocabulary (size 512)"},
                {"{\"input\":\"a\",\"encoding_format\":\"int8\"}", "'encoding_format' must be \"float\" or \"base64\", got \"int8\""},
                {"{\"input\":\"a\",\"dimensions\":0}", "'dimensions' must be between 1 and 2147483647, got 0"},
                {"{\"input\":\"a\",\"dimensions\":65}", "'dimensions' is 65; this model's embeddings have 64"},
                {"{\"input\":\"a\",\"model\":\"text-embedding-3-small\"}", "The model 'text-embedding-3-small' does not exist"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = tiny.server().post("/v1/embeddings", c[0]);
            assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
            assertEquals(c[1], TestServer.json(r).get("error").get("message").asText(), c[0]);
        }
        StringBuilder many = new StringBuilder("{\"input\":[");
        for (int i = 0; i <= EmbeddingRequest.MAX_INPUTS; i++) many.append(i == 0 ? "" : ",").append("\"a\"");
        HttpResponse<String> r = tiny.server().post("/v1/embeddings", many.append("]}").toString());
        assertEquals(400, r.statusCode());
        assertEquals("'input' holds 2049 entries; at most 2048 are accepted", TestServer.json(r).get("error").get("message").asText());

        // Inputs that each fit the 256-token context but hold more than OpenAI's 300,000 tokens together.
        int words = 256;
        while (tiny.model().tokenize("blue ".repeat(words), true).length > 256) words--;
        int perInput = tiny.model().tokenize("blue ".repeat(words), true).length;
        StringBuilder big = new StringBuilder("{\"input\":[");
        String longText = "\"" + "blue ".repeat(words) + "\"";
        for (int i = 0; i <= 300_000 / perInput; i++) big.append(i == 0 ? "" : ",").append(longText);
        HttpResponse<String> tooMuch = tiny.server().post("/v1/embeddings", big.append("]}").toString());
        assertEquals(400, tooMuch.statusCode());
        assertEquals("The inputs hold more than 300000 tokens together; send them in several requests",
                TestServer.json(tooMuch).get("error").get("message").asText());

        HttpResponse<String> ollama = tiny.server().post("/api/embed", "{\"model\":\"tiny-llama\",\"input\":[1,2]}");
        assertEquals(400, ollama.statusCode());
        assertEquals("'input' must be a string or an array of strings", TestServer.json(ollama).get("error").asText());
        HttpResponse<String> noModel = tiny.server().post("/api/embed", "{\"input\":\"a\"}");
        assertEquals(400, noModel.statusCode());
        assertEquals("model is required", TestServer.json(noModel).get("error").asText());
        assertEquals(404, tiny.server().post("/api/embed", "{\"model\":\"nomic-embed-text\",\"input\":\"a\"}").statusCode());
    }

    @Test
    void theSlotGoesOnGeneratingAndMetricsCountTheRequests() throws Exception {
        Map<String, Double> before = PrometheusText.parse(tiny.server().metrics.scrape());
        ok(tiny.server().post("/v1/embeddings", "{\"input\":[\"" + SKY + "\",\"" + SEA + "\"]}"));
        Map<String, Double> after = PrometheusText.parse(tiny.server().metrics.scrape());
        int tokens = tiny.model().tokenize(SKY, true).length + tiny.model().tokenize(SEA, true).length;
        assertEquals(2.0, after.get("flashllm_embedding_inputs_total") - before.get("flashllm_embedding_inputs_total"));
        assertEquals(tokens, after.get("flashllm_embedding_tokens_total") - before.get("flashllm_embedding_tokens_total"));
        assertEquals(before.get("flashllm_prompt_tokens_total"), after.get("flashllm_prompt_tokens_total"),
                "embeddings stay out of the generations' prompt figures");
        JsonNode c = ok(tiny.server().post("/v1/completions", "{\"prompt\":\"" + SKY + "\",\"max_tokens\":4,\"temperature\":0}"));
        assertEquals("text_completion", c.get("object").asText());
        String metrics = tiny.server().metrics.scrape();
        assertTrue(metrics.contains("flashllm_http_requests_total{endpoint=\"/v1/embeddings\",status=\"200\"}"), metrics);
    }

    @Test
    void poolingSettingOverridesTheDefault() throws Exception {
        try (TestServer mean = new TestServer(tiny.model(), Map.of(Setting.CTX, 256, Setting.POOLING, "mean"))) {
            int[] tokens = tiny.model().tokenize(SEA, true);
            JsonNode r = ok(mean.post("/v1/embeddings", "{\"input\":\"" + SEA + "\"}"));
            float[] v = floats(r.get("data").get(0).get("embedding"));
            assertNear(unit(engine(tokens, Pooling.MEAN)), v, "mean pooling");
            float[] last = unit(engine(tokens, Pooling.LAST));
            boolean differs = false;
            for (int i = 0; i < v.length; i++) differs |= Math.abs(v[i] - last[i]) > 1e-3;
            assertTrue(differs, "mean and last pooling give different vectors");
        }
    }
}
