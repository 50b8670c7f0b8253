package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.server.config.Setting;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A client that goes away frees its slot (or queue place) within about one token, wherever it was. */
class DisconnectTest {
    private static final String LONG_STREAM = "{\"prompt\":\"Hi\",\"max_tokens\":200,\"stream\":true}";
    private static final String LONG_UNARY = "{\"prompt\":\"Hi\",\"max_tokens\":200}";
    /** Generous against a loaded 2-core machine; a token takes 20 ms. */
    private static final long WITHIN_MS = 2_000;

    @Test
    void disconnectWhileStreamingOrGeneratingOrQueued() throws Exception {
        FakeModel model = new FakeModel(0, 20, 512);
        try (TestServer ts = new TestServer(model, Map.of(Setting.PARALLEL, 1, Setting.QUEUE_SIZE, 4))) {
            // Streaming: drop the connection after the first content chunk.
            RawClient a = new RawClient(ts.port, "POST", "/v1/completions", LONG_STREAM, null);
            a.readUntil("\"text\":\"H\"");
            assertEquals(1, ts.server.running());
            long t0 = System.nanoTime();
            a.close();
            assertTrue(TestServer.eventually(WITHIN_MS, () -> ts.server.running() == 0 && model.generating.get() == 0));
            System.out.printf("stream disconnect freed the slot in %.1f ms%n", (System.nanoTime() - t0) / 1e6);

            // Non-streaming, generating.
            RawClient b = new RawClient(ts.port, "POST", "/v1/completions", LONG_UNARY, null);
            assertTrue(TestServer.eventually(WITHIN_MS, () -> model.generating.get() == 1));
            b.close();
            assertTrue(TestServer.eventually(WITHIN_MS, () -> ts.server.running() == 0 && model.generating.get() == 0));

            // Queued behind a running stream: leaving the queue frees the place at once.
            RawClient holder = new RawClient(ts.port, "POST", "/v1/completions", LONG_STREAM, null);
            holder.readUntil("\"text\":\"H\"");
            RawClient queued = new RawClient(ts.port, "POST", "/v1/completions", LONG_STREAM, null);
            assertTrue(TestServer.eventually(WITHIN_MS, () -> ts.server.queued() == 1));
            queued.close();
            assertTrue(TestServer.eventually(WITHIN_MS, () -> ts.server.queued() == 0));
            assertEquals(1, ts.server.running());
            holder.close();
            assertTrue(TestServer.eventually(WITHIN_MS, () -> ts.server.running() == 0 && model.generating.get() == 0));
            assertTrue(TestServer.eventually(WITHIN_MS, () -> ts.server.openExchanges() == 0), "exchanges released");
            String metrics = ts.metrics.scrape();
            assertTrue(metrics.contains("flashllm_requests_cancelled_total{reason=\"client_disconnected\"} 4.0"), metrics);
        }
    }

    @Test
    void disconnectWhilePromptIsProcessed() throws Exception {
        // 5 ms per prompt token: a 400-byte prompt takes 2 s to process.
        FakeModel model = new FakeModel(5_000_000L, 20, 1024);
        try (TestServer ts = new TestServer(model, Map.of(Setting.PARALLEL, 1))) {
            String prompt = "x".repeat(400);
            RawClient c = new RawClient(ts.port, "POST", "/v1/completions",
                    "{\"prompt\":\"" + prompt + "\",\"max_tokens\":5,\"stream\":true}", null);
            assertTrue(TestServer.eventually(WITHIN_MS, () -> model.generating.get() == 1));
            long t0 = System.nanoTime();
            c.close();
            assertTrue(TestServer.eventually(WITHIN_MS, () -> ts.server.running() == 0 && model.generating.get() == 0));
            long ms = (System.nanoTime() - t0) / 1_000_000L;
            System.out.printf("prefill disconnect freed the slot in %d ms%n", ms);
            assertTrue(ms < 1_500, "cancelled " + ms + " ms after the disconnect; the prompt alone takes 2 s");
            // The slot is usable again afterwards.
            assertEquals(200, ts.post("/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":2}").statusCode());
        }
    }
}
