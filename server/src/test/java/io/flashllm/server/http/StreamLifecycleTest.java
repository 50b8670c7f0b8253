package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.server.config.Setting;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Pings while a long prompt is processed; graceful shutdown finishes short streams and ends long ones. */
class StreamLifecycleTest {
    @Test
    void pingsWhileThePromptIsProcessed() throws Exception {
        FakeModel model = new FakeModel(2_000_000L, 1, 1024); // 2 ms per prompt token
        try (TestServer ts = new TestServer(model, Map.of(Setting.PING_INTERVAL_MS, 40L))) {
            String prompt = "p".repeat(300); // ~600 ms of prompt processing
            HttpResponse<InputStream> r = ts.client.send(ts.request("/v1/chat/completions")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt
                            + "\"}],\"max_tokens\":3,\"stream\":true}")).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, r.statusCode());
            SseParser sse = new SseParser(r.body());
            SseParser.Event role = sse.next();
            assertNotNull(role.data(), "role chunk first");
            int pings = 0;
            SseParser.Event e;
            while ((e = sse.next()).comment() != null) {
                assertEquals("ping", e.comment());
                pings++;
            }
            assertTrue(pings >= 3, "pings during a 600 ms prompt at 40 ms: " + pings);
            assertEquals("H", TestServer.JSON.readTree(e.data()).get("choices").get(0).get("delta").get("content").asText());
            List<SseParser.Event> rest = sse.all();
            assertEquals("[DONE]", rest.getLast().data());
        }
    }

    @Test
    void shutdownLetsShortStreamsFinishAndEndsLongOnesWithAnError() throws Exception {
        FakeModel model = new FakeModel(0, 10, 4096);
        TestServer ts = new TestServer(model, Map.of(Setting.PARALLEL, 2, Setting.SHUTDOWN_GRACE_SECONDS, 1));
        try {
            HttpRequest shortReq = ts.request("/v1/completions").POST(HttpRequest.BodyPublishers.ofString(
                    "{\"prompt\":\"a\",\"max_tokens\":30,\"stream\":true}")).build();     // ~300 ms
            HttpRequest longReq = ts.request("/v1/completions").POST(HttpRequest.BodyPublishers.ofString(
                    "{\"prompt\":\"a\",\"max_tokens\":3000,\"stream\":true}")).build();   // ~30 s
            CompletableFuture<HttpResponse<String>> shortF = ts.client.sendAsync(shortReq, HttpResponse.BodyHandlers.ofString());
            CompletableFuture<HttpResponse<String>> longF = ts.client.sendAsync(longReq, HttpResponse.BodyHandlers.ofString());
            assertTrue(TestServer.eventually(5_000, () -> ts.server.running() == 2));
            long t0 = System.nanoTime();
            Thread stopper = Thread.ofPlatform().start(ts.server::shutdown);
            assertTrue(TestServer.eventually(2_000, () -> {
                try {
                    return ts.get("/health").statusCode() == 503;
                } catch (Exception ex) {
                    return true; // already closed
                }
            }));

            HttpResponse<String> s = shortF.get(10, TimeUnit.SECONDS);
            assertEquals("[DONE]", SseParser.parse(s.body()).getLast().data());

            HttpResponse<String> l = longF.get(10, TimeUnit.SECONDS);
            List<SseParser.Event> ev = SseParser.parse(l.body());
            JsonNode last = TestServer.JSON.readTree(ev.getLast().data());
            assertEquals("shutting_down", last.get("error").get("code").asText(), l.body().substring(Math.max(0, l.body().length() - 300)));
            stopper.join(10_000);
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("shutdown with a 1 s grace took %.2f s%n", seconds);
            assertTrue(seconds < 5, "shutdown took " + seconds + " s with a 1 s grace period");
            assertEquals(0, ts.server.running());
            assertEquals(0, model.sessionsOpen.get(), "slot sessions are closed");
        } finally {
            ts.close();
        }
    }
}
