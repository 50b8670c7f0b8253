package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.server.config.ConfigException;
import io.flashllm.server.config.ServerConfig;
import io.flashllm.server.config.Setting;
import io.flashllm.server.metrics.ServerMetrics;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Bearer keys, open paths, and the refusal to expose an unauthenticated server. */
class AuthTest {
    private static HttpResponse<String> get(TestServer ts, String path, String auth) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(ts.uri(path)).GET();
        if (auth != null) b.header("Authorization", auth);
        return ts.client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void keyIsRequiredExceptOnHealthAndMetrics() throws Exception {
        try (TestServer ts = new TestServer(new FakeModel(0, 0, 64), Map.of(Setting.API_KEY, "s3cret"))) {
            HttpResponse<String> none = get(ts, "/v1/models", null);
            ErrorResponsesTest.assertError(none, 401, null, "invalid_api_key");
            assertEquals("Bearer", none.headers().firstValue("WWW-Authenticate").orElse(null));
            ErrorResponsesTest.assertError(get(ts, "/v1/models", "Bearer wrong"), 401, null, "invalid_api_key");
            ErrorResponsesTest.assertError(get(ts, "/v1/models", "Bearer s3cre"), 401, null, "invalid_api_key");
            ErrorResponsesTest.assertError(get(ts, "/v1/models", "Basic czNjcmV0"), 401, null, "invalid_api_key");
            ErrorResponsesTest.assertError(get(ts, "/nowhere", null), 401, null, "invalid_api_key");
            assertEquals(200, get(ts, "/v1/models", "Bearer s3cret").statusCode());
            assertEquals(200, get(ts, "/v1/models", "bearer s3cret").statusCode());
            assertEquals(200, get(ts, "/health", null).statusCode());
            assertEquals(200, get(ts, "/metrics", null).statusCode());
            // A body from an unauthenticated client is refused before it is read.
            HttpResponse<String> post = ts.client.send(HttpRequest.newBuilder(ts.uri("/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"a\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, post.statusCode());
            String metrics = ts.metrics.scrape();
            assertTrue(metrics.contains("flashllm_http_requests_total{endpoint=\"/v1/models\",status=\"401\"} 4.0"), metrics);
        }
    }

    @Test
    void metricsCanRequireTheKey() throws Exception {
        try (TestServer ts = new TestServer(new FakeModel(0, 0, 64),
                Map.of(Setting.API_KEY, "k", Setting.METRICS_REQUIRE_KEY, true))) {
            assertEquals(401, get(ts, "/metrics", null).statusCode());
            assertEquals(200, get(ts, "/metrics", "Bearer k").statusCode());
        }
    }

    @Test
    void bearerComparison() {
        BearerAuth auth = new BearerAuth("key-123", Set.of());
        assertTrue(auth.accepts("Bearer key-123"));
        assertTrue(auth.accepts("  BEARER   key-123 "));
        assertFalse(auth.accepts("Bearer key-1234"));
        assertFalse(auth.accepts("Bearer "));
        assertFalse(auth.accepts("key-123"));
        assertFalse(auth.accepts(null));
    }

    @Test
    void nonLoopbackBindNeedsAKeyOrAnExplicitOptOut() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ServerConfig.of(Map.of(Setting.HOST, "0.0.0.0")).checkExposure());
        assertTrue(e.getMessage().contains("--api-key"), e.getMessage());
        ServerConfig.of(Map.of(Setting.HOST, "0.0.0.0", Setting.API_KEY, "k")).checkExposure();
        ServerConfig.of(Map.of(Setting.HOST, "0.0.0.0", Setting.INSECURE_ALLOW_NO_KEY, true)).checkExposure();
        ServerConfig.of(Map.of(Setting.HOST, "localhost")).checkExposure();
        ServerConfig.of(Map.of(Setting.HOST, "::1")).checkExposure();
        try (ServerMetrics m = new ServerMetrics()) {
            assertThrows(ConfigException.class, () -> new ApiServer(ServerConfig.of(Map.of(Setting.HOST, "0.0.0.0")), m));
        }
    }
}
