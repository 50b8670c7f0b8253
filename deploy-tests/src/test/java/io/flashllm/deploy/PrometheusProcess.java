package io.flashllm.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Debian's Prometheus binary on loopback, scraping one target every second. */
final class PrometheusProcess implements AutoCloseable {
    final int port;
    private final Process process;
    private final Path log;

    private PrometheusProcess(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    static PrometheusProcess start(Path binary, Path workDir, String target) throws IOException, InterruptedException {
        return start(binary, workDir, List.of(target));
    }

    /** Prometheus scraping every one of {@code targets} (host:port) once a second, as one job. */
    static PrometheusProcess start(Path binary, Path workDir, List<String> targets) throws IOException, InterruptedException {
        int port = Http.freePort();
        Path config = workDir.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                scrape_configs:
                  - job_name: flashllm
                    static_configs:
                      - targets: [%s]
                """.formatted(String.join(", ", targets.stream().map(t -> "\"" + t + "\"").toList())));
        Path log = workDir.resolve("prometheus.log");
        Process p = new ProcessBuilder(List.of(binary.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + workDir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn"))
                .directory(workDir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        PrometheusProcess prom = new PrometheusProcess(p, port, log);
        if (!Http.awaitOk("http://127.0.0.1:" + port + "/-/ready", Duration.ofSeconds(60), p::isAlive)) {
            String out = Files.readString(log);
            prom.close();
            throw new AssertionError("prometheus did not become ready; log:\n" + out);
        }
        return prom;
    }

    /** GET /api/v1/query at the current time; returns the whole JSON answer (status, data or error). */
    JsonNode query(String promql) throws IOException, InterruptedException {
        Http.Response r = Http.get("http://127.0.0.1:" + port + "/api/v1/query?query="
                + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        return Http.JSON.readTree(r.body());
    }

    /** Waits until the query has a sample whose value is at least min. */
    boolean awaitValue(String promql, double min, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (JsonNode s : query(promql).path("data").path("result")) {
                if (Double.parseDouble(s.path("value").path(1).asText("NaN")) >= min) return true;
            }
            Thread.sleep(250);
        }
        return false;
    }

    String logText() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
