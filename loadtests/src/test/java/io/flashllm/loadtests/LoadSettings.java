package io.flashllm.loadtests;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Settings from -D system properties. Every loop is bounded twice: by a request count per user and
 * by a wall-clock limit per level. Only loopback targets are accepted: this drives a local server.
 */
record LoadSettings(URI baseUrl, List<Integer> levels, int requestsPerUser, int maxTokens, Duration levelTimeLimit,
                    Duration tokenTimeout, String prompt, boolean distinctPrompts, String model, String apiKey) {

    static LoadSettings fromSystemProperties() {
        URI base = URI.create(System.getProperty("baseUrl", "http://127.0.0.1:8080"));
        requireLoopback(base);
        List<Integer> levels = Arrays.stream(System.getProperty("levels", "1,4,16").split(","))
                .map(String::trim).map(Integer::parseInt).toList();
        for (int l : levels) {
            if (l < 1 || l > 256) throw new IllegalArgumentException("levels must be 1..256 users, got " + l);
        }
        int requests = Integer.getInteger("requests", 10);
        int maxTokens = Integer.getInteger("maxTokens", 64);
        if (requests < 1 || requests > 10_000) throw new IllegalArgumentException("requests must be 1..10000");
        if (maxTokens < 1 || maxTokens > 4096) throw new IllegalArgumentException("maxTokens must be 1..4096");
        return new LoadSettings(base, levels, requests, maxTokens,
                Duration.ofSeconds(Long.getLong("levelSeconds", 300)),
                Duration.ofSeconds(Long.getLong("tokenTimeoutSeconds", 60)),
                System.getProperty("prompt", "Write a short story about a lighthouse keeper who finds a message in a bottle."),
                Boolean.getBoolean("distinctPrompts"),
                System.getProperty("model", ""),
                System.getenv("FLASHLLM_API_KEY"));
    }

    private static void requireLoopback(URI base) {
        String host = base.getHost();
        try {
            if (host != null && InetAddress.getByName(host).isLoopbackAddress()) return;
        } catch (UnknownHostException e) {
            // reported below
        }
        throw new IllegalArgumentException("baseUrl " + base + " is not a loopback address; these load tests "
                + "only target a server on this machine (127.0.0.1, ::1 or localhost)");
    }

    /** The JSON body of one streamed completion. */
    String body() {
        return body(prompt);
    }

    /**
     * The body of the {@code n}-th stream: with {@code distinctPrompts} its prompt starts with its
     * number, so no server slot can reuse the KV cache of an earlier prompt and TTFT includes the
     * whole prompt's processing.
     */
    String body(long n) {
        return body(distinctPrompts ? "Request " + n + ". " + prompt : prompt);
    }

    private String body(String prompt) {
        StringBuilder b = new StringBuilder("{\"prompt\":\"").append(prompt.replace("\\", "\\\\").replace("\"", "\\\""))
                .append("\",\"max_tokens\":").append(maxTokens).append(",\"stream\":true,\"temperature\":0");
        if (!model.isEmpty()) b.append(",\"model\":\"").append(model).append('"');
        return b.append('}').toString();
    }
}
