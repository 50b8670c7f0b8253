package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.server.config.Setting;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Malformed and impossible requests get the right status and an OpenAI error body. */
class ErrorResponsesTest {
    static TestServer ts;

    @BeforeAll
    static void start() {
        ts = new TestServer(new FakeModel(0, 0, 256), Map.of(Setting.MAX_BODY_BYTES, 8192));
    }

    @AfterAll
    static void stop() {
        ts.close();
    }

    static Stream<Arguments> badBodies() {
        String c = "/v1/completions";
        String ch = "/v1/chat/completions";
        return Stream.of(
                Arguments.of(c, "{", 400, null, "invalid_json"),
                Arguments.of(c, "", 400, null, "invalid_json"),
                Arguments.of(c, "[1,2]", 400, null, "invalid_json"),
                Arguments.of(c, "{} {}", 400, null, "invalid_json"),
                Arguments.of(c, "[".repeat(200) + "]".repeat(200), 400, null, "invalid_json"),
                Arguments.of(c, "{\"max_tokens\":3}", 400, "prompt", "missing_field"),
                Arguments.of(c, "{\"prompt\":5}", 400, "prompt", "invalid_type"),
                Arguments.of(c, "{\"prompt\":[\"a\",\"b\"]}", 400, "prompt", "unsupported_parameter"),
                Arguments.of(c, "{\"prompt\":[999]}", 400, "prompt", "invalid_value"),
                Arguments.of(c, "{\"prompt\":\"a\",\"model\":\"gpt-4\"}", 400, "model", "model_not_found"),
                Arguments.of(c, "{\"prompt\":\"a\",\"model\":7}", 400, "model", "invalid_type"),
                Arguments.of(c, "{\"prompt\":\"a\",\"temperature\":\"hot\"}", 400, "temperature", "invalid_type"),
                Arguments.of(c, "{\"prompt\":\"a\",\"temperature\":5}", 400, "temperature", "invalid_value"),
                Arguments.of(c, "{\"prompt\":\"a\",\"top_p\":1.5}", 400, "top_p", "invalid_value"),
                Arguments.of(c, "{\"prompt\":\"a\",\"max_tokens\":0}", 400, "max_tokens", "invalid_value"),
                Arguments.of(c, "{\"prompt\":\"a\",\"max_tokens\":-5}", 400, "max_tokens", "invalid_value"),
                Arguments.of(c, "{\"prompt\":\"a\",\"max_tokens\":1e30}", 400, "max_tokens", "invalid_type"),
                Arguments.of(c, "{\"prompt\":\"a\",\"max_tokens\":2.5}", 400, "max_tokens", "invalid_type"),
                Arguments.of(c, "{\"prompt\":\"a\",\"max_tokens\":1000}", 400, "max_tokens", "context_length_exceeded"),
                Arguments.of(c, "{\"prompt\":\"" + "x".repeat(300) + "\"}", 400, "prompt", "context_length_exceeded"),
                Arguments.of(c, "{\"prompt\":\"a\",\"n\":2}", 400, "n", "unsupported_parameter"),
                Arguments.of(c, "{\"prompt\":\"a\",\"best_of\":3}", 400, "best_of", "unsupported_parameter"),
                Arguments.of(c, "{\"prompt\":\"a\",\"stop\":5}", 400, "stop", "invalid_type"),
                Arguments.of(c, "{\"prompt\":\"a\",\"stop\":[\"\"]}", 400, "stop", "invalid_value"),
                Arguments.of(c, "{\"prompt\":\"a\",\"stop\":[" + "\"x\",".repeat(16) + "\"y\"]}", 400, "stop", "invalid_value"),
                Arguments.of(c, "{\"prompt\":\"a\",\"presence_penalty\":3}", 400, "presence_penalty", "invalid_value"),
                Arguments.of(c, "{\"prompt\":\"a\",\"frequency_penalty\":\"x\"}", 400, "frequency_penalty", "invalid_type"),
                Arguments.of(c, "{\"prompt\":\"a\",\"logprobs\":50}", 400, "logprobs", "invalid_value"),
                Arguments.of(c, "{\"prompt\":\"a\",\"seed\":\"x\"}", 400, "seed", "invalid_type"),
                Arguments.of(c, "{\"prompt\":\"a\",\"stream\":\"yes\"}", 400, "stream", "invalid_type"),
                Arguments.of(c, "{\"prompt\":\"a\",\"stream_options\":3}", 400, "stream_options", "invalid_type"),
                Arguments.of(c, "{\"prompt\":\"a\",\"logit_bias\":{\"x\":10}}", 400, "logit_bias", "invalid_value"),
                Arguments.of(c, "{\"prompt\":\"a\",\"logit_bias\":{\"5\":101}}", 400, "logit_bias", "invalid_value"),
                Arguments.of(c, "{\"prompt\":\"a\",\"logit_bias\":{\"5\":\"up\"}}", 400, "logit_bias", "invalid_value"),
                Arguments.of(c, "{\"prompt\":\"a\",\"logit_bias\":[5]}", 400, "logit_bias", "invalid_type"),
                Arguments.of(c, "{\"prompt\":\"a\",\"logit_bias\":{\"99999\":1}}", 400, "logit_bias", "invalid_value"),
                Arguments.of(c, "{\"prompt\":\"a\",\"grammar\":\"root ::= foo\"}", 400, "grammar", "invalid_grammar"),
                Arguments.of(c, "{\"prompt\":\"a\",\"grammar\":7}", 400, "grammar", "invalid_type"),
                Arguments.of(c, "{\"prompt\":\"a\",\"grammar\":\"root ::= [a]\",\"json_schema\":{}}", 400, "grammar",
                        "invalid_value"),
                Arguments.of(c, "{\"prompt\":\"a\",\"json_schema\":{\"type\":\"string\",\"pattern\":\"a+\"}}", 400,
                        "json_schema", "invalid_schema"),
                Arguments.of(ch, "{}", 400, "messages", "missing_field"),
                Arguments.of(ch, "{\"messages\":[]}", 400, "messages", "invalid_value"),
                Arguments.of(ch, "{\"messages\":{}}", 400, "messages", "invalid_type"),
                Arguments.of(ch, "{\"messages\":[\"hi\"]}", 400, "messages[0]", "invalid_type"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", 400, "messages[0].role", "invalid_value"),
                Arguments.of(ch, "{\"messages\":[{\"content\":\"x\"}]}", 400, "messages[0].role", "invalid_type"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\",\"content\":5}]}", 400, "messages[0].content", "invalid_type"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\"}]}", 400, "messages[0].content", "missing_field"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", 400,
                        "messages[0].content", "unsupported_parameter"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{}]}", 400, "tools[0]",
                        "invalid_value"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":{}}", 400, "tools",
                        "invalid_type"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\","
                        + "\"function\":{\"name\":\"a b\"}}]}", 400, "tools[0].function.name", "invalid_value"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\","
                        + "\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"string\",\"pattern\":\"x\"}}}]}", 400,
                        "tools[0].function.parameters", "invalid_schema"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\","
                        + "\"function\":{\"name\":\"f\"}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"g\"}}}",
                        400, "tool_choice", "invalid_value"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tool_choice\":\"required\"}", 400,
                        "tool_choice", "invalid_value"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\","
                        + "\"function\":{\"name\":\"f\"}}],\"response_format\":{\"type\":\"json_object\"}}", 400, "tools",
                        "invalid_value"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\","
                        + "\"arguments\":\"{oops\"}}]}]}", 400, "messages[0].tool_calls[0].function.arguments", "invalid_value"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"function\",\"content\":\"x\"}]}", 400, "messages[0].role",
                        "unsupported_parameter"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_logprobs\":3}", 400,
                        "top_logprobs", "invalid_value"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{\"type\":\"yaml\"}}",
                        400, "response_format.type", "invalid_value"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":\"json\"}",
                        400, "response_format", "invalid_type"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":"
                        + "{\"type\":\"json_schema\"}}", 400, "response_format.json_schema", "missing_field"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":"
                        + "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"uuid\"}}}}",
                        400, "response_format.json_schema.schema", "invalid_schema"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":"
                        + "{\"type\":\"json_object\"},\"grammar\":\"root ::= [a]\"}", 400, "grammar", "invalid_value"),
                Arguments.of(ch, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":3}", 400, "n", "unsupported_parameter"),
                Arguments.of("/tokenize", "{}", 400, "content", "missing_field"),
                Arguments.of("/detokenize", "{\"tokens\":[1,\"x\"]}", 400, "tokens", "invalid_value"),
                Arguments.of("/detokenize", "{\"tokens\":[100000]}", 400, "tokens", "invalid_value"),
                Arguments.of(c, "{\"prompt\":\"" + "y".repeat(9000) + "\"}", 413, null, "request_too_large"),
                Arguments.of("/v1/nothing", "{}", 404, null, "not_found"));
    }

    @ParameterizedTest
    @MethodSource("badBodies")
    void rejected(String path, String body, int status, String param, String code) throws Exception {
        HttpResponse<String> r = ts.post(path, body);
        assertError(r, status, param, code);
    }

    static void assertError(HttpResponse<String> r, int status, String param, String code) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"), r.headers().toString());
        JsonNode e = TestServer.json(r).get("error");
        assertTrue(e.get("message").isTextual() && !e.get("message").asText().isEmpty());
        assertTrue(e.get("type").isTextual());
        assertTrue(e.has("param") && e.has("code"));
        if (param == null) assertTrue(e.get("param").isNull(), e.toString()); else assertEquals(param, e.get("param").asText());
        assertEquals(code, e.get("code").asText(), e.toString());
    }

    @Test
    void wrongMethodIs405() throws Exception {
        HttpResponse<String> r = ts.get("/v1/completions");
        assertError(r, 405, null, "method_not_allowed");
        HttpResponse<String> d = ts.client.send(ts.request("/health").DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertError(d, 405, null, "method_not_allowed");
    }

    @Test
    void bodyTooLargeByChunkedUpload() throws Exception {
        // No Content-Length: the limit must hold while the body streams in.
        HttpRequest req = ts.request("/v1/completions").POST(HttpRequest.BodyPublishers.ofInputStream(
                () -> new java.io.ByteArrayInputStream(("{\"prompt\":\"" + "z".repeat(20000) + "\"}").getBytes()))).build();
        HttpResponse<String> r = ts.client.send(req, HttpResponse.BodyHandlers.ofString());
        assertError(r, 413, null, "request_too_large");
    }

    @Test
    void oversizedHeadersAndGarbageGetJsonErrors() throws Exception {
        for (String[] c : new String[][] {
                {"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n", "431", "headers_too_large"},
                {"GET /" + "b".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n", "414", "uri_too_long"},
                {"\u0001\u0002 nonsense\r\n\r\n", "400", "malformed_http"}}) {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", ts.port)) {
                s.setSoTimeout(5000);
                s.getOutputStream().write(c[0].getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                String resp = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                // A request line the decoder could not read has no version, so the answer may say HTTP/1.0.
                assertTrue(resp.matches("(?s)HTTP/1\\.[01] " + c[1] + " .*"), resp);
                JsonNode e = TestServer.JSON.readTree(resp.substring(resp.indexOf("\r\n\r\n") + 4)).get("error");
                assertEquals(c[2], e.get("code").asText());
            }
        }
    }

    @Test
    void jsonLabelledAsAFormIsStillJson() throws Exception {
        // curl -d sends application/x-www-form-urlencoded; the body is JSON all the same.
        HttpResponse<String> r = ts.client.send(ts.request("/v1/completions")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"" + "hello ".repeat(30) + "\",\"max_tokens\":2}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
    }

    @Test
    void serverStillAnswersAfterErrors() throws Exception {
        assertEquals(200, ts.post("/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":2}").statusCode());
    }

    @Test
    void loadingServerAnswers503() throws Exception {
        try (TestServer loading = new TestServer(null, Map.of())) {
            HttpResponse<String> h = loading.get("/health");
            assertEquals(503, h.statusCode());
            assertEquals("loading", TestServer.json(h).get("status").asText());
            assertError(loading.post("/v1/completions", "{\"prompt\":\"a\"}"), 503, null, "model_loading");
            assertError(loading.get("/v1/models"), 503, null, "model_loading");
            loading.server.serve(new FakeModel(0, 0, 64));
            assertEquals(200, loading.get("/health").statusCode());
        }
    }
}
