package io.flashllm.deploy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's Prometheus (a real process on loopback) scrapes a real flashllm while requests run; then
 * every PromQL expression of the dashboard, and every variable query, is evaluated against it. Each
 * must be valid and return at least one finite value.
 */
class DashboardQueriesIT {
    // What Grafana would put in: a rate window of several 1 s scrapes, a range covering the test.
    private static final Map<String, String> GRAFANA = Map.of(
            "__rate_interval", "20s", "__interval", "1s", "__range", "5m", "instance", ".+", "layer", ".+");

    @TempDir
    Path tmp;

    @Test
    void everyDashboardQueryReturnsDataFromALiveServer() throws Exception {
        Repo.requireJar();
        Path prometheus = Repo.executable("prometheus");
        Repo.require(prometheus != null, "prometheus is not installed (apt-get install prometheus; .ci/install-deps.sh)");
        Dashboard dash = Dashboard.load(Repo.dashboard());

        Files.createDirectories(tmp.resolve("server"));
        Files.createDirectories(tmp.resolve("prom"));
        try (ServerProcess server = ServerProcess.start(tmp.resolve("server"));
             PrometheusProcess prom = PrometheusProcess.start(prometheus, tmp.resolve("prom"), "127.0.0.1:" + server.port)) {
            assertTrue(prom.awaitValue("count_over_time(up{job=\"flashllm\"}[1m])", 2, Duration.ofSeconds(30)),
                    "prometheus did not scrape flashllm twice; log:\n" + prom.logText());
            String base = server.url("");
            // Two bursts with scrapes between, so that every rate() sees counters move.
            Traffic.mixed(base, 3);
            Thread.sleep(2500);
            Traffic.mixed(base, 3);
            Thread.sleep(2500);

            String scrape = Http.get(base + "/metrics").body();
            List<String> missing = new ArrayList<>();
            for (Dashboard.Query q : dash.queries()) {
                for (String name : PromQl.metricNames(q.expr())) {
                    if (!Pattern.compile("(?m)^" + Pattern.quote(name) + "[ {]").matcher(scrape).find()) {
                        missing.add(q.panel() + ": " + name);
                    }
                }
            }
            assertTrue(missing.isEmpty(), "the dashboard reads metrics this server does not export: "
                    + new LinkedHashSet<>(missing));

            List<String> failures = new ArrayList<>();
            for (Dashboard.Query q : dash.queries()) {
                String expr = PromQl.substitute(q.expr(), GRAFANA);
                String problem = problem(prom.query(expr));
                if (problem != null) failures.add(q.panel() + " [" + q.refId() + "] " + expr + ": " + problem);
            }
            for (JsonNode v : dash.variables()) {
                String query = Dashboard.variableQuery(v);
                if (query == null) continue;
                String expr = labelValuesAsPromQl(PromQl.substitute(query, GRAFANA));
                String problem = problem(prom.query(expr));
                if (problem != null) failures.add("variable " + v.path("name").asText() + " (" + expr + "): " + problem);
            }
            assertTrue(failures.isEmpty(), failures.size() + " dashboard queries failed:\n" + String.join("\n", failures));
        }
    }

    /** label_values(selector, label) is Grafana's; the same question in PromQL is group by (label). */
    static String labelValuesAsPromQl(String query) {
        Matcher m = Pattern.compile("label_values\\((.+),\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*\\)").matcher(query.trim());
        assertTrue(m.matches(), "unsupported variable query " + query);
        return "group by (" + m.group(2) + ") (" + m.group(1) + ")";
    }

    /** Null when the answer is a success with at least one finite value, else what is wrong. */
    private static String problem(JsonNode answer) {
        if (!"success".equals(answer.path("status").asText())) {
            return "error " + answer.path("errorType").asText() + ": " + answer.path("error").asText();
        }
        JsonNode result = answer.path("data").path("result");
        if (result.isEmpty()) return "no data";
        Set<String> values = new LinkedHashSet<>();
        for (JsonNode s : result) {
            String v = s.path("value").path(1).asText("NaN");
            values.add(v);
            double d = Double.parseDouble(v.replace("+Inf", "Infinity").replace("-Inf", "-Infinity"));
            if (Double.isFinite(d)) return null;
        }
        return "no finite value (" + values + ")";
    }
}
