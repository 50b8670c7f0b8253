package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.server.config.Setting;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Embeddings share the slots with completions: queueing, hang-ups, engine faults. */
class EmbeddingLifecycleTest {
    /** 5 ms per input token: a 400-byte input takes 2 s. */
    private static final long NANOS_PER_TOKEN = 5_000_000L;
    private static final String LONG = "{\"input\":\"" + "x".repeat(400) + "\"}";
    private static final long WITHIN_MS = 2_000;

    @Test
    void aClientThatHangsUpFreesTheSlot() throws Exception {
        FakeModel model = new FakeModel(NANOS_PER_TOKEN, 0, 1024);
        try (TestServer ts = new TestServer(model, Map.of(Setting.PARALLEL, 1))) {
            RawClient c = new RawClient(ts.port, "POST", "/v1/embeddings", LONG, null);
            assertTrue(TestServer.eventually(WITHIN_MS, () -> ts.server.running() == 1));
            c.close();
            assertTrue(TestServer.eventually(WITHIN_MS, () -> ts.server.running() == 0), "the slot is free before the input is done");
            assertTrue(TestServer.eventually(WITHIN_MS, () -> ts.server.openExchanges() == 0), "exchange released");
            assertTrue(ts.metrics.scrape().contains("flashllm_requests_cancelled_total{reason=\"client_disconnected\"} 1.0"));
            HttpResponse<String> next = ts.post("/v1/embeddings", "{\"input\":\"ab\"}");
            assertEquals(200, next.statusCode(), next.body());
        }
    }

    @Test
    void aFullQueueIs429AndTheRunningOneFinishes() throws Exception {
        FakeModel model = new FakeModel(NANOS_PER_TOKEN, 0, 1024);
        try (TestServer ts = new TestServer(model, Map.of(Setting.PARALLEL, 1, Setting.QUEUE_SIZE, 0))) {
            RawClient running = new RawClient(ts.port, "POST", "/v1/embeddings", LONG, null);
            assertTrue(TestServer.eventually(WITHIN_MS, () -> ts.server.running() == 1));
            HttpResponse<String> busy = ts.post("/api/embed", "{\"model\":\"fake-model\",\"input\":\"ab\"}");
            assertEquals(429, busy.statusCode());
            assertTrue(TestServer.json(busy).get("error").asText().contains("queue is full"), busy.body());
            String answer = running.readUntil("}}");
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            // {count, sum of ids, first, last} normalized: the BOS and 400 'x' bytes.
            assertTrue(answer.contains("\"prompt_tokens\":401"), answer);
            running.close();
        }
    }

    @Test
    void anEngineFaultIs500AndTheNextRequestGetsAFreshSession() throws Exception {
        FakeModel model = new FakeModel(0, 0, 256);
        try (TestServer ts = new TestServer(model, Map.of(Setting.PARALLEL, 1))) {
            HttpResponse<String> r = ts.post("/v1/embeddings", "{\"input\":[\"fine\",\"a [fail] here\"]}");
            assertEquals(500, r.statusCode());
            assertEquals("Embedding failed: IllegalStateException: simulated engine fault",
                    TestServer.json(r).get("error").get("message").asText());
            JsonNode ok = TestServer.json(ts.post("/v1/embeddings", "{\"input\":\"ab\",\"encoding_format\":\"float\"}"));
            JsonNode v = ok.get("data").get(0).get("embedding");
            // {3, 256 + 'a' + 'b', 256, 'b'} scaled to unit length.
            double[] raw = {3, 256 + 97 + 98, 256, 98};
            double norm = Math.sqrt(raw[0] * raw[0] + raw[1] * raw[1] + raw[2] * raw[2] + raw[3] * raw[3]);
            for (int i = 0; i < 4; i++) assertEquals(raw[i] / norm, v.get(i).doubleValue(), 1e-6);
            assertEquals(1, model.sessionsOpen.get(), "the broken session was closed and one opened afresh");
        }
    }
}
