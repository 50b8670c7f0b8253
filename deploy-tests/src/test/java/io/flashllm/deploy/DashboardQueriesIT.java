package io.flashllm.deploy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthArch;
import io.flashllm.engine.synth.SynthFormat;
import io.flashllm.engine.synth.SynthSpec;
import io.flashllm.engine.synth.SynthType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's Prometheus (a real process on loopback) scrapes a real flashllm serving the demo model as
 * a flash bundle, and a second one serving a small mixture of experts from its GGUF file, while requests
 * run; then every PromQL expression of the dashboard, and every variable query, is evaluated against it.
 * Each must be valid and return at least one finite value.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardQueriesIT {
    // What Grafana would put in: a rate window of several 1 s scrapes, a range covering the test.
    private static final Map<String, String> GRAFANA = Map.of(
            "__rate_interval", "20s", "__interval", "1s", "__range", "5m", "instance", ".+", "layer", ".+");
    /** Meters of the flash store, I/O engine and predictor (server/METRICS.md, "Flash store"). */
    private static final List<String> FLASH_STORE = List.of("flashllm_neuron_cache_", "flashllm_flash_",
            "flashllm_predictor_", "flashllm_memory_");

    /** Meters of a mixture of experts (server/METRICS.md, "Mixtures of experts"). */
    private static final List<String> EXPERTS = List.of("flashllm_expert_");

    private ServerProcess server;
    private ServerProcess moeServer;
    private PrometheusProcess prom;
    private Dashboard dash;
    private String scrape;
    private String moeScrape;

    @BeforeAll
    void startServerAndPrometheusAndDriveTraffic(@TempDir Path tmp) throws Exception {
        Repo.requireJar();
        Path prometheus = Repo.executable("prometheus");
        Repo.require(prometheus != null, "prometheus is not installed (apt-get install prometheus; .ci/install-deps.sh)");
        dash = Dashboard.load(Repo.dashboard());
        Path work = Files.createDirectories(tmp.resolve("server"));
        Path bundle = DemoBundle.create(Files.createDirectories(tmp.resolve("model")));
        // No start-up warm-up: the demo bundle is dense and small, so the warm-up's tokens would leave
        // every neuron cached and the test's requests would read nothing from flash.
        // A kv-spill-dir, so that its meters (the "Conversations on flash" panel) are exported.
        server = ServerProcess.start(work, bundle, Map.of("FLASHLLM_WARMUP", "false",
                "FLASHLLM_KV_SPILL_DIR", Files.createDirectories(tmp.resolve("kv-spill")).toString()));
        Path moe = Files.createDirectories(tmp.resolve("moe")).resolve("moe.gguf");
        Synth.synthesize(new SynthSpec(SynthArch.QWEN3, 256, 2, 4, 2, 128, 2000, SynthType.Q8_0, SynthFormat.GGUF, 7L,
                null, 2048, "tiny qwen3 moe", 64, 8, 2), moe);
        moeServer = ServerProcess.start(Files.createDirectories(tmp.resolve("moe-server")), moe,
                Map.of("FLASHLLM_WARMUP", "false"));
        prom = PrometheusProcess.start(prometheus, Files.createDirectories(tmp.resolve("prom")),
                List.of("127.0.0.1:" + server.port, "127.0.0.1:" + moeServer.port));
        assertTrue(prom.awaitValue("min(count_over_time(up{job=\"flashllm\"}[1m]))", 2, Duration.ofSeconds(30)),
                "prometheus did not scrape both servers twice; log:\n" + prom.logText());
        String base = server.url("");
        String moeBase = moeServer.url("");
        // Two bursts with scrapes between, so that every rate() sees counters move.
        Traffic.mixed(base, 3);
        Traffic.mixed(moeBase, 1);
        Thread.sleep(2500);
        Traffic.mixed(base, 3);
        Traffic.mixed(moeBase, 1);
        Thread.sleep(2500);
        scrape = Http.get(base + "/metrics").body();
        moeScrape = Http.get(moeBase + "/metrics").body();
    }

    @AfterAll
    void stop() throws Exception {
        if (prom != null) prom.close();
        if (server != null) server.close();
        if (moeServer != null) moeServer.close();
    }

    private static boolean flashStore(Dashboard.Query q) {
        return PromQl.metricNames(q.expr()).stream().anyMatch(n -> FLASH_STORE.stream().anyMatch(n::startsWith));
    }

    private static boolean experts(Dashboard.Query q) {
        return PromQl.metricNames(q.expr()).stream().anyMatch(n -> EXPERTS.stream().anyMatch(n::startsWith));
    }

    @Test
    void requestTokenAndJvmPanelsReturnData() throws Exception {
        checkQueries(q -> !flashStore(q) && !experts(q));
        List<String> failures = new ArrayList<>();
        for (JsonNode v : dash.variables()) {
            String query = Dashboard.variableQuery(v);
            if (query == null || v.path("name").asText().equals("layer")) continue;
            String expr = labelValuesAsPromQl(PromQl.substitute(query, GRAFANA));
            String problem = problem(prom.query(expr));
            if (problem != null) failures.add("variable " + v.path("name").asText() + " (" + expr + "): " + problem);
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    /**
     * The flash-store panels. Skipped with the list of what is missing when the server exports none
     * of the flash-store meters; once any of them is exported, all of them must be, and every query
     * must return data. Predictor recall exists only while a predictor runs (the demo bundle selects
     * neurons exactly), so its panel is checked only when the gauge is there.
     */
    @Test
    void flashStorePanelsReturnData() throws Exception {
        Set<String> wanted = new LinkedHashSet<>();
        for (Dashboard.Query q : dash.queries()) if (flashStore(q)) wanted.addAll(PromQl.metricNames(q.expr()));
        wanted.removeIf(n -> FLASH_STORE.stream().noneMatch(n::startsWith));
        Set<String> exported = new LinkedHashSet<>(wanted);
        exported.removeIf(n -> !exported(n));
        Assumptions.assumeFalse(exported.isEmpty(), "the server exports none of the flash-store meters yet: " + wanted);
        boolean predictor = exported("flashllm_predictor_recall");
        checkQueries(q -> flashStore(q) && (predictor
                || PromQl.metricNames(q.expr()).stream().noneMatch(n -> n.startsWith("flashllm_predictor_"))));
        JsonNode layer = null;
        for (JsonNode v : dash.variables()) if (v.path("name").asText().equals("layer")) layer = v;
        assertTrue(layer != null, "no layer variable");
        String expr = labelValuesAsPromQl(PromQl.substitute(Dashboard.variableQuery(layer), GRAFANA));
        String problem = problem(prom.query(expr));
        assertTrue(problem == null, "variable layer (" + expr + "): " + problem);
    }

    /** The mixture-of-experts panels, from the second server's meters. */
    @Test
    void expertPanelsReturnData() throws Exception {
        assertTrue(Pattern.compile("(?m)^flashllm_expert_lookups_total[ {]").matcher(moeScrape).find(),
                "the mixture of experts exports no expert meters");
        checkQueries(DashboardQueriesIT::experts);
    }

    private boolean exported(String name) {
        Pattern p = Pattern.compile("(?m)^" + Pattern.quote(name) + "[ {]");
        return p.matcher(scrape).find() || p.matcher(moeScrape).find();
    }

    private void checkQueries(Predicate<Dashboard.Query> which) throws IOException, InterruptedException {
        List<String> missing = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (Dashboard.Query q : dash.queries()) {
            if (!which.test(q)) continue;
            for (String name : PromQl.metricNames(q.expr())) if (!exported(name)) missing.add(q.panel() + ": " + name);
            String expr = PromQl.substitute(q.expr(), GRAFANA);
            String problem = problem(prom.query(expr));
            if (problem != null) failures.add(q.panel() + " [" + q.refId() + "] " + expr + ": " + problem);
        }
        assertTrue(missing.isEmpty(), "the dashboard reads metrics this server does not export: " + missing);
        assertTrue(failures.isEmpty(), failures.size() + " dashboard queries failed:\n" + String.join("\n", failures));
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
