package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.server.config.Setting;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Idle connections, trickled bodies and clients that stop reading cannot hold the server's resources. */
class ConnectionLimitsTest {
    /** Blocks until the server closes the connection; returns how long that took. */
    private static long millisUntilClosed(Socket s) throws IOException {
        long t0 = System.nanoTime();
        s.setSoTimeout(10_000);
        InputStream in = s.getInputStream();
        byte[] buf = new byte[8192];
        try {
            while (in.read(buf) >= 0) {
                // discard whatever the server sends before closing
            }
        } catch (SocketException reset) {
            // a reset is a close too
        }
        return (System.nanoTime() - t0) / 1_000_000L;
    }

    @Test
    void idleAndTricklingConnectionsAreClosedButLongGenerationsAreNot() throws Exception {
        FakeModel model = new FakeModel(0, 15, 1024);
        try (TestServer ts = new TestServer(model, Map.of(Setting.IDLE_TIMEOUT_SECONDS, 1,
                Setting.REQUEST_READ_TIMEOUT_SECONDS, 1))) {
            try (Socket idle = new Socket("127.0.0.1", ts.port)) {
                long ms = millisUntilClosed(idle);
                assertTrue(ms >= 800 && ms < 4_000, "idle connection closed after " + ms + " ms");
            }
            try (Socket trickle = new Socket("127.0.0.1", ts.port)) {
                OutputStream out = trickle.getOutputStream();
                out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 100\r\n\r\n{\"prompt\":").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                long ms = millisUntilClosed(trickle);
                assertTrue(ms >= 800 && ms < 4_000, "half-sent body closed after " + ms + " ms");
            }
            // 150 tokens at 15 ms: over two seconds without a byte on the wire, longer than the idle timeout.
            long t0 = System.nanoTime();
            var r = ts.post("/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":150}");
            assertEquals(200, r.statusCode());
            assertTrue(System.nanoTime() - t0 > 1_500_000_000L);
            assertEquals(150, TestServer.json(r).get("usage").get("completion_tokens").asInt());
        }
    }

    @Test
    void aClientThatStopsReadingPausesThenCancelsGeneration() throws Exception {
        FakeModel model = new FakeModel(0, 0, 1 << 22);
        try (TestServer ts = new TestServer(model, Map.of(Setting.WRITE_QUEUE_BYTES, 1024, Setting.CTX, 1 << 22,
                Setting.SLOW_READER_TIMEOUT_MS, 300L))) {
            try (Socket s = new Socket()) {
                s.setReceiveBufferSize(4096);
                s.connect(new InetSocketAddress("127.0.0.1", ts.port));
                String body = "{\"prompt\":\"a\",\"max_tokens\":4000000,\"stream\":true}";
                s.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                // Never read: socket buffers fill, the response's write queue fills, generation must pause,
                // and after the slow-reader timeout the request is cancelled and its slot freed.
                assertTrue(TestServer.eventually(20_000, () -> {
                    var c = ts.metrics.registry().find("flashllm.requests.cancelled").tag("reason", "slow_reader").counter();
                    return c != null && c.count() == 1.0;
                }),
                        "no slow-reader cancellation; running=" + ts.server.running());
                assertTrue(TestServer.eventually(2_000, () -> ts.server.running() == 0 && model.generating.get() == 0));
                String metrics = ts.metrics.scrape();
                double generated = MetricsEndpointTest.parse(metrics).get("flashllm_generated_tokens_total");
                System.out.printf("slow reader: cancelled after %.0f tokens%n", generated);
                assertTrue(generated < 1_000_000, "generation paused long before max_tokens: " + generated);
            }
        }
    }
}
