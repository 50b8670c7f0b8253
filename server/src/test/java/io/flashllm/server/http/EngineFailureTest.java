package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** An engine failure becomes a 500 or, mid-stream, an error event; the slot recovers with a fresh session. */
class EngineFailureTest {
    @Test
    void failuresAreReportedAndTheSlotRecovers() throws Exception {
        FakeModel model = new FakeModel(0, 0, 128);
        try (TestServer ts = new TestServer(model, Map.of())) {
            HttpResponse<String> unary = ts.post("/v1/completions", "{\"prompt\":\"[fail]\",\"max_tokens\":10}");
            ErrorResponsesTest.assertError(unary, 500, null, "internal_error");
            assertTrue(TestServer.json(unary).get("error").get("message").asText().contains("simulated engine fault"));

            HttpResponse<String> stream = ts.post("/v1/chat/completions",
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"[fail]\"}],\"max_tokens\":10,\"stream\":true}");
            assertEquals(200, stream.statusCode());
            List<SseParser.Event> ev = SseParser.parse(stream.body());
            StringBuilder text = new StringBuilder();
            for (SseParser.Event e : ev.subList(0, ev.size() - 1)) {
                JsonNode d = TestServer.JSON.readTree(e.data()).get("choices").get(0).get("delta");
                text.append(d.get("content").asText());
            }
            assertEquals("He", text.toString());
            JsonNode err = TestServer.JSON.readTree(ev.getLast().data()).get("error");
            assertEquals("server_error", err.get("type").asText());
            assertEquals("internal_error", err.get("code").asText());
            assertTrue(ev.stream().noneMatch(e -> "[DONE]".equals(e.data())));

            assertEquals(200, ts.post("/v1/completions", "{\"prompt\":\"ok\",\"max_tokens\":3}").statusCode());
            assertEquals(1, model.sessionsOpen.get(), "the failed session was closed and replaced");
            assertEquals(0, ts.server.running(), "the slot is free before the answer leaves");
        }
    }
}
