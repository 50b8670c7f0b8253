package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Ollama's API (what Ollama clients call) on a real server over the real engine. */
class OllamaApiTest {
    @RegisterExtension
    static final TinyEngine tiny = new TinyEngine(2048, 1024, 1);

    /** The NDJSON lines of a streamed answer. */
    private static List<JsonNode> lines(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/x-ndjson"), r.headers().toString());
        List<JsonNode> out = new ArrayList<>();
        for (String line : r.body().split("\n")) {
            if (!line.isBlank()) out.add(TestServer.JSON.readTree(line));
        }
        return out;
    }

    @Test
    void clientsFindTheModel() throws Exception {
        HttpResponse<String> root = tiny.server().get("/");
        assertEquals(200, root.statusCode());
        assertTrue(root.body().startsWith("flashllm is running"), root.body());
        JsonNode tags = TestServer.json(tiny.server().get("/api/tags"));
        JsonNode m = tags.get("models").get(0);
        assertEquals("tiny-llama:latest", m.get("name").asText());
        assertEquals("llama", m.get("details").get("family").asText());
        assertEquals("F32", m.get("details").get("quantization_level").asText(), "the file type the GGUF file declares");
        assertEquals(64, m.get("digest").asText().length());
        assertTrue(TestServer.json(tiny.server().get("/api/version")).get("version").isTextual());
        assertEquals("tiny-llama:latest", TestServer.json(tiny.server().get("/api/ps")).get("models").get(0).get("name").asText());
        JsonNode show = TestServer.json(tiny.server().post("/api/show", "{\"model\":\"tiny-llama\"}"));
        assertEquals(1024, show.get("model_info").get("llama.context_length").asInt());
        assertEquals(show, TestServer.json(tiny.server().post("/api/show", "{\"name\":\"tiny-llama:latest\"}")), "older clients send name");
        HttpResponse<String> missing = tiny.server().post("/api/show", "{\"model\":\"llama3:8b\"}");
        assertEquals(404, missing.statusCode());
        assertTrue(TestServer.json(missing).get("error").asText().contains("llama3:8b"), missing.body());
    }

    @Test
    void generateStreamsLinesAndEndsWithTheCounts() throws Exception {
        String body = "{\"model\":\"tiny-llama:latest\",\"prompt\":\"Why is the sky blue?\",\"options\":{\"num_predict\":12,"
                + "\"temperature\":0}";
        JsonNode whole = TestServer.json(tiny.server().post("/api/generate", body + ",\"stream\":false}"));
        assertTrue(whole.get("done").asBoolean());
        assertEquals("tiny-llama:latest", whole.get("model").asText());
        int count = whole.get("eval_count").asInt();
        assertTrue(count >= 1 && count <= 12, whole.toString());
        assertEquals(count == 12 ? "length" : "stop", whole.get("done_reason").asText());
        assertTrue(whole.get("prompt_eval_count").asInt() > 0);
        assertTrue(whole.get("total_duration").asLong() >= whole.get("eval_duration").asLong());

        List<JsonNode> lines = lines(tiny.server().post("/api/generate", body + "}"));
        JsonNode last = lines.getLast();
        assertTrue(last.get("done").asBoolean());
        assertEquals(count, last.get("eval_count").asInt());
        StringBuilder text = new StringBuilder();
        for (JsonNode l : lines) {
            if (l != last) assertFalse(l.get("done").asBoolean());
            text.append(l.get("response").asText());
        }
        assertEquals(whole.get("response").asText(), text.toString(), "greedy: streamed and whole alike");
    }

    @Test
    void chatFollowsAFormatAndSeedsReproduce() throws Exception {
        String body = "{\"model\":\"tiny-llama\",\"messages\":[{\"role\":\"user\",\"content\":\"Describe a cat\"}],"
                + "\"format\":{\"type\":\"object\",\"properties\":{\"legs\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9},"
                + "\"name\":{\"enum\":[\"Tom\",\"Kit\"]}},\"required\":[\"legs\",\"name\"]},"
                + "\"options\":{\"seed\":42,\"num_predict\":200},\"stream\":false}";
        JsonNode a = TestServer.json(tiny.server().post("/api/chat", body));
        JsonNode b = TestServer.json(tiny.server().post("/api/chat", body));
        assertEquals("assistant", a.get("message").get("role").asText());
        String content = a.get("message").get("content").asText();
        assertEquals(content, b.get("message").get("content").asText(), "the same seed, the same answer");
        JsonNode doc = TestServer.JSON.readTree(content);
        assertTrue(doc.get("legs").asInt() >= 0 && doc.get("legs").asInt() <= 9, content);
        assertTrue(doc.get("name").asText().matches("Tom|Kit"), content);
        assertEquals("stop", a.get("done_reason").asText());

        List<JsonNode> lines = lines(tiny.server().post("/api/chat", "{\"model\":\"tiny-llama\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Hi\"}],\"format\":\"json\",\"options\":{\"num_predict\":60,\"temperature\":0.7,\"seed\":1}}"));
        StringBuilder streamed = new StringBuilder();
        for (JsonNode l : lines) streamed.append(l.get("message").get("content").asText());
        JsonNode last = lines.getLast();
        if (last.get("done_reason").asText().equals("stop")) {
            assertTrue(TestServer.JSON.readTree(streamed.toString()).isObject(), streamed.toString());
        } else {
            assertTrue(streamed.toString().startsWith("{"), streamed.toString());
        }
    }

    @Test
    void aRequiredCallComesBackAsOllamaToolCalls() throws Exception {
        // Ollama has no tool_choice; the OpenAI field still works here, which is how this test forces a call.
        JsonNode r = TestServer.json(tiny.server().post("/api/chat", "{\"model\":\"tiny-llama\",\"stream\":false,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}],\"options\":{\"temperature\":0,\"num_predict\":200},"
                + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\","
                + "\"properties\":{\"city\":{\"enum\":[\"Paris\",\"Rome\"]}},\"required\":[\"city\"]}}}],\"tool_choice\":\"required\"}"));
        JsonNode calls = r.get("message").get("tool_calls");
        assertTrue(calls != null && calls.size() >= 1, r.toString());
        JsonNode fn = calls.get(0).get("function");
        assertEquals("get_weather", fn.get("name").asText());
        assertTrue(fn.get("arguments").isObject(), "Ollama sends arguments as an object: " + fn);
        assertTrue(fn.get("arguments").get("city").asText().matches("Paris|Rome"), fn.toString());
        assertEquals("", r.get("message").get("content").asText());
    }

    @Test
    void loadingOnlyAndErrorsInOllamasShape() throws Exception {
        JsonNode load = TestServer.json(tiny.server().post("/api/generate", "{\"model\":\"tiny-llama\"}"));
        assertTrue(load.get("done").asBoolean());
        assertEquals("load", load.get("done_reason").asText());
        for (String[] c : new String[][] {
                {"/api/generate", "{\"prompt\":\"x\"}", "400"},
                {"/api/generate", "{\"model\":\"nope\",\"prompt\":\"x\"}", "404"},
                {"/api/generate", "{\"model\":\"tiny-llama\",\"prompt\":\"x\",\"options\":{\"temperature\":\"hot\"}}", "400"},
                {"/api/generate", "{\"model\":\"tiny-llama\",\"prompt\":\"x\",\"context\":[1,2,3]}", "400"},
                {"/api/generate", "{\"model\":\"tiny-llama\",\"prompt\":\"x\",\"format\":\"yaml\"}", "400"},
                {"/api/chat", "{\"model\":\"tiny-llama\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                        + "\"options\":{\"num_predict\":5000}}", "400"},
                {"/api/chat", "{\"model\":\"tiny-llama\",\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", "400"}}) {
            HttpResponse<String> r = tiny.server().post(c[0], c[1]);
            assertEquals(Integer.parseInt(c[2]), r.statusCode(), c[1] + " -> " + r.body());
            JsonNode err = TestServer.json(r).get("error");
            assertTrue(err != null && err.isTextual() && !err.asText().isEmpty(), "Ollama's errors are a string: " + r.body());
        }
        // Errors raised before any handler (no such route, a body over the 4 MiB default) have Ollama's shape too.
        HttpResponse<String> noRoute = tiny.server().post("/api/pull", "{\"model\":\"tiny-llama\"}");
        assertEquals(404, noRoute.statusCode());
        assertTrue(TestServer.json(noRoute).get("error").isTextual(), noRoute.body());
        HttpResponse<String> tooBig = tiny.server().post("/api/generate", "{\"model\":\"tiny-llama\",\"prompt\":\"" + "y".repeat(4_300_000) + "\"}");
        assertEquals(413, tooBig.statusCode());
        assertTrue(TestServer.json(tooBig).get("error").isTextual(), tooBig.body());
        assertTrue(TestServer.json(tiny.server().post("/v1/nothing", "{}")).get("error").isObject(), "OpenAI's shape elsewhere");
        // raw: the prompt as it is, no chat template around it.
        JsonNode raw = TestServer.json(tiny.server().post("/api/generate", "{\"model\":\"tiny-llama\",\"prompt\":\"Once upon\",\"raw\":true,"
                + "\"stream\":false,\"options\":{\"num_predict\":3}}"));
        JsonNode templated = TestServer.json(tiny.server().post("/api/generate", "{\"model\":\"tiny-llama\",\"prompt\":\"Once upon\","
                + "\"stream\":false,\"options\":{\"num_predict\":3}}"));
        assertTrue(raw.get("prompt_eval_count").asInt() < templated.get("prompt_eval_count").asInt(), raw + " vs " + templated);
        JsonNode withSystem = TestServer.json(tiny.server().post("/api/generate", "{\"model\":\"tiny-llama\",\"prompt\":\"Once upon\","
                + "\"system\":\"You tell stories to children.\",\"stream\":false,\"options\":{\"num_predict\":3}}"));
        assertTrue(withSystem.get("prompt_eval_count").asInt() > templated.get("prompt_eval_count").asInt(),
                "the system prompt goes in front: " + withSystem);
    }
}
