package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.server.config.Setting;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** More clients than slots and queue places: each gets a full answer or a 429, none hangs. */
class ConcurrencyTest {
    @Test
    void overloadGivesCompleteAnswersOr429() throws Exception {
        FakeModel model = new FakeModel(0, 5, 512);
        try (TestServer ts = new TestServer(model, Map.of(Setting.PARALLEL, 2, Setting.QUEUE_SIZE, 2))) {
            int clients = 10;
            List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                boolean stream = i % 2 == 0;
                HttpRequest req = ts.request("/v1/completions").header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"prompt\":\"Hi\",\"max_tokens\":40,\"stream\":" + stream + "}")).build();
                futures.add(ts.client.sendAsync(req, HttpResponse.BodyHandlers.ofString()));
            }
            int ok = 0;
            int busy = 0;
            for (CompletableFuture<HttpResponse<String>> f : futures) {
                HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
                if (r.statusCode() == 200) {
                    ok++;
                    if (r.body().startsWith("{")) {
                        assertEquals(40, TestServer.json(r).get("usage").get("completion_tokens").asInt());
                    } else {
                        List<SseParser.Event> ev = SseParser.parse(r.body());
                        assertEquals("[DONE]", ev.getLast().data());
                    }
                } else {
                    assertEquals(429, r.statusCode(), r.body());
                    busy++;
                    assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
                    JsonNode e = TestServer.json(r).get("error");
                    assertEquals("queue_full", e.get("code").asText());
                    assertEquals("rate_limit_error", e.get("type").asText());
                }
            }
            System.out.printf("%d served, %d refused%n", ok, busy);
            assertEquals(clients, ok + busy);
            assertTrue(ok >= 4, "two slots and two queue places admit at least four: " + ok);
            assertTrue(busy >= 1, "ten requests of 200 ms each cannot all fit: " + busy);
            assertTrue(TestServer.eventually(2_000, () -> ts.server.running() == 0 && ts.server.queued() == 0));
            String text = ts.metrics.scrape();
            assertTrue(text.contains("flashllm_requests_running 0.0"), text);
            assertTrue(text.contains("flashllm_requests_queued 0.0"), text);
            assertTrue(text.contains("flashllm_http_requests_total{endpoint=\"/v1/completions\",status=\"429\"} " + busy + ".0"));
        }
    }
}
