package io.flashllm.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

/** Plain HTTP against a server on loopback: status/body, health polling and SSE completions. */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();

    private Http() {}

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    record Response(int status, String body) {}

    static Response get(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body());
    }

    static Response post(String url, String json) throws IOException, InterruptedException {
        HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body());
    }

    /** Polls GET url until it answers 200; false when the deadline passes or alive says the process died. */
    static boolean awaitOk(String url, Duration timeout, java.util.function.BooleanSupplier alive) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!alive.getAsBoolean()) return false;
            try {
                if (get(url).status() == 200) return true;
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        return false;
    }

    /** A streamed completion: the JSON chunks in order, and whether the stream ended with [DONE]. */
    record SseResult(int status, String contentType, List<JsonNode> chunks, boolean done) {
        String text() {
            StringBuilder b = new StringBuilder();
            for (JsonNode c : chunks) {
                JsonNode choice = c.path("choices").path(0);
                b.append(choice.has("delta") ? choice.path("delta").path("content").asText("") : choice.path("text").asText(""));
            }
            return b.toString();
        }
    }

    /** POSTs a request with "stream": true and reads the SSE events to the end. */
    static SseResult stream(String url, String json) throws IOException, InterruptedException {
        HttpResponse<Stream<String>> r = CLIENT.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                        .header("Content-Type", "application/json").header("Accept", "text/event-stream")
                        .POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofLines());
        List<JsonNode> chunks = new ArrayList<>();
        boolean done = false;
        try (Stream<String> lines = r.body()) {
            Iterator<String> it = lines.iterator();
            while (it.hasNext()) {
                String line = it.next();
                if (!line.startsWith("data:")) continue;   // blank separators and ": ping" comments
                String data = line.substring(5).trim();
                if (data.equals("[DONE]")) {
                    done = true;
                    continue;
                }
                chunks.add(JSON.readTree(data));
            }
        }
        return new SseResult(r.statusCode(), r.headers().firstValue("content-type").orElse(""), chunks, done);
    }
}
