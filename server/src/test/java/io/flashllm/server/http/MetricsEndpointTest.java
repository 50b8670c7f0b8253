package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.server.config.Setting;
import io.flashllm.server.metrics.LayerCounters;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** /metrics is valid Prometheus text, holds the documented series, and they move with traffic. */
class MetricsEndpointTest {
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*})? (\\S+)( \\d+)?$");

    /** Parses the text format strictly: every line is a comment (# HELP / # TYPE) or a sample. */
    static Map<String, Double> parse(String text) {
        Map<String, Double> out = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty()) continue;
            if (line.startsWith("#")) {
                assertTrue(line.startsWith("# HELP ") || line.startsWith("# TYPE ") || line.startsWith("# EOF"), line);
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "not a Prometheus sample: " + line);
            String v = m.group(3);
            double d = v.equals("NaN") ? Double.NaN : v.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(v);
            out.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), d);
        }
        return out;
    }

    @Test
    void metricsArePresentAndMove() throws Exception {
        FakeModel model = new FakeModel(0, 2, 256);
        try (TestServer ts = new TestServer(model, Map.of())) {
            AtomicLongArray hits = new AtomicLongArray(2);
            ts.metrics.bind(new LayerCounters("flashllm.neuron.cache.hits", "neuron cache hits", 2, hits::get));
            HttpResponse<String> first = ts.get("/metrics");
            assertEquals(200, first.statusCode());
            assertTrue(first.headers().firstValue("content-type").orElse("").startsWith("text/plain"));
            Map<String, Double> before = parse(first.body());
            for (String name : new String[] {"flashllm_requests_running", "flashllm_requests_queued", "flashllm_slots",
                    "flashllm_prompt_tokens_total", "flashllm_prompt_cached_tokens_total", "flashllm_generated_tokens_total",
                    "flashllm_time_to_first_token_seconds_count", "flashllm_inter_token_latency_seconds_count",
                    "flashllm_request_duration_seconds_count", "flashllm_queue_wait_seconds_count",
                    "jvm_memory_used_bytes{area=\"heap\",id=\"G1 Eden Space\"}", "process_cpu_usage", "process_uptime_seconds",
                    "flashllm_neuron_cache_hits_total{layer=\"1\"}"}) {
                if (name.startsWith("jvm_memory_used_bytes")) {
                    assertTrue(before.keySet().stream().anyMatch(k -> k.startsWith("jvm_memory_used_bytes")), "jvm memory");
                    continue;
                }
                assertNotNull(before.get(name), name + " missing in\n" + first.body());
            }
            assertEquals(0.0, before.get("flashllm_requests_running"));

            assertEquals(200, ts.post("/v1/completions", "{\"prompt\":\"Hi\",\"max_tokens\":5}").statusCode());
            assertEquals(200, ts.post("/v1/completions", "{\"prompt\":\"Hi\",\"max_tokens\":4,\"stream\":true}").statusCode());
            assertEquals(400, ts.post("/v1/completions", "{}").statusCode());
            hits.addAndGet(1, 42);

            Map<String, Double> after = parse(ts.get("/metrics").body());
            assertEquals(6.0, after.get("flashllm_prompt_tokens_total") - before.get("flashllm_prompt_tokens_total"));
            // The second "Hi" finds BOS and "H" in the slot's cache; its last token runs again.
            assertEquals(2.0, after.get("flashllm_prompt_cached_tokens_total") - before.get("flashllm_prompt_cached_tokens_total"));
            assertEquals(9.0, after.get("flashllm_generated_tokens_total") - before.get("flashllm_generated_tokens_total"));
            assertEquals(2.0, after.get("flashllm_time_to_first_token_seconds_count"));
            assertEquals(7.0, after.get("flashllm_inter_token_latency_seconds_count"));
            assertEquals(2.0, after.get("flashllm_request_duration_seconds_count"));
            assertEquals(2.0, after.get("flashllm_queue_wait_seconds_count"));
            assertEquals(2.0, after.get("flashllm_time_to_first_token_seconds_bucket{le=\"+Inf\"}"));
            assertTrue(after.get("flashllm_time_to_first_token_seconds_bucket{le=\"0.005\"}") <= 2.0);
            assertTrue(after.get("flashllm_inter_token_latency_seconds_sum") > 0);
            assertEquals(2.0, after.get("flashllm_http_requests_total{endpoint=\"/v1/completions\",status=\"200\"}"));
            assertEquals(1.0, after.get("flashllm_http_requests_total{endpoint=\"/v1/completions\",status=\"400\"}"));
            assertEquals(1.0, after.get("flashllm_http_requests_total{endpoint=\"/metrics\",status=\"200\"}"));
            assertEquals(42.0, after.get("flashllm_neuron_cache_hits_total{layer=\"1\"}"));
            assertEquals(0.0, after.get("flashllm_requests_running"));
        }
    }
}
