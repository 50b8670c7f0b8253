package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/** {@code flashllm serve}'s command on a free port, a few greedy completions through it, and /metrics parsed. */
final class ServedMetrics {
    private ServedMetrics() {}

    /** Serves {@code provider}'s model at context {@code ctx}, completes each prompt (12 tokens), returns the scrape. */
    static Map<String, Double> afterCompletions(ModelProvider provider, int ctx, String... prompts) throws Exception {
        ServeCommand cmd = new ServeCommand(provider, List.of());
        new CommandLine(cmd).parseArgs("--port", "0", "--ctx", Integer.toString(ctx));
        ServeCommand.Running r = cmd.start(Map.of());
        try {
            HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String base = "http://127.0.0.1:" + r.port;
            for (String prompt : prompts) {
                HttpResponse<String> resp = c.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"" + prompt
                                + "\",\"max_tokens\":12,\"temperature\":0,\"ignore_eos\":true}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, resp.statusCode(), resp.body());
            }
            HttpResponse<String> scrape = c.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, scrape.statusCode());
            return PrometheusText.parse(scrape.body());
        } finally {
            r.stop();
        }
    }
}
