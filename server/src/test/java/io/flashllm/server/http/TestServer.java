package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.server.config.ServerConfig;
import io.flashllm.server.config.Setting;
import io.flashllm.server.metrics.ServerMetrics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** A real server on an ephemeral loopback port, with a JDK HTTP client pointed at it. */
final class TestServer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    final ApiServer server;
    final ServerMetrics metrics;
    final int port;
    final InferenceModel model;
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    String apiKey;

    TestServer(InferenceModel model, Map<Setting, Object> overrides) {
        Map<Setting, Object> o = new EnumMap<>(Setting.class);
        o.put(Setting.PORT, 0);
        o.putAll(overrides);
        ServerConfig config = ServerConfig.of(o);
        this.metrics = new ServerMetrics();
        this.server = new ApiServer(config, metrics);
        this.port = server.start();
        this.model = model;
        this.apiKey = config.apiKey();
        if (model != null) server.serve(model);
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30));
        if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
        return b;
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return client.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return client.send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        return JSON.readTree(r.body());
    }

    /** The answer's JSON, after checking it is a 200 (the body in the message when not). */
    static JsonNode ok(HttpResponse<String> r) throws IOException {
        org.junit.jupiter.api.Assertions.assertEquals(200, r.statusCode(), r.body());
        return json(r);
    }

    /** Polls until the condition holds; false after the timeout. */
    static boolean eventually(long timeoutMillis, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) return true;
            Thread.sleep(5);
        }
        return condition.getAsBoolean();
    }

    @Override
    public void close() {
        server.shutdown();
        metrics.close();
    }
}
