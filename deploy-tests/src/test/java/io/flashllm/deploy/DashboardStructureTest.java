package io.flashllm.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The dashboard JSON's structure: ids, layout, data sources, variables, and the metrics it names. */
class DashboardStructureTest {
    private static final Set<String> BUILTIN = Set.of("__rate_interval", "__range", "__interval", "__interval_ms",
            "__range_s", "__range_ms");

    private final Dashboard dash = load();

    private static Dashboard load() {
        try {
            return Dashboard.load(Repo.dashboard());
        } catch (IOException e) {
            throw new AssertionError("cannot read " + Repo.dashboard(), e);
        }
    }

    @Test
    void everyDashboardFileIsValidJsonWithUidAndTitle() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(Repo.dashboards())) {
            files = s.filter(p -> p.toString().endsWith(".json")).toList();
        }
        assertFalse(files.isEmpty(), "no dashboards in " + Repo.dashboards());
        Set<String> uids = new HashSet<>();
        for (Path f : files) {
            JsonNode root = new ObjectMapper().readTree(f.toFile());
            assertTrue(root.path("title").isTextual(), f + ": no title");
            assertTrue(uids.add(root.path("uid").asText("")), f + ": missing or duplicate uid");
            assertTrue(root.path("schemaVersion").asInt() >= 36, f + ": schemaVersion too old for Grafana 10/11");
        }
    }

    @Test
    void panelIdsAreUniqueAndTheLayoutHasNoOverlaps() {
        Set<Integer> ids = new HashSet<>();
        List<int[]> boxes = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        for (JsonNode p : dash.panels()) {
            String title = p.path("title").asText();
            assertTrue(p.path("id").isInt() && p.path("id").asInt() > 0, title + ": id must be a positive integer");
            assertTrue(ids.add(p.path("id").asInt()), title + ": duplicate panel id " + p.path("id"));
            JsonNode g = p.path("gridPos");
            int x = g.path("x").asInt(-1), y = g.path("y").asInt(-1), w = g.path("w").asInt(0), h = g.path("h").asInt(0);
            assertTrue(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 24, title + ": bad gridPos " + g);
            for (int i = 0; i < boxes.size(); i++) {
                int[] b = boxes.get(i);
                boolean overlap = x < b[0] + b[2] && b[0] < x + w && y < b[1] + b[3] && b[1] < y + h;
                assertFalse(overlap, title + " overlaps " + titles.get(i));
            }
            boxes.add(new int[] {x, y, w, h});
            titles.add(title);
        }
    }

    @Test
    void panelsAndQueriesUseThePrometheusDatasourceVariable() throws IOException {
        String provisionedUid = new ObjectMapper(new YAMLFactory())
                .readTree(Repo.root().resolve("config/grafana/provisioning/datasources/prometheus.yml").toFile())
                .path("datasources").path(0).path("uid").asText();
        JsonNode dsVar = variable("datasource");
        assertEquals("datasource", dsVar.path("type").asText());
        assertEquals("prometheus", dsVar.path("query").asText());
        assertEquals(provisionedUid, dsVar.path("current").path("value").asText(),
                "the datasource variable should default to the provisioned data source");
        for (JsonNode p : dash.panels()) {
            if (p.path("type").asText().equals("row")) continue;
            String title = p.path("title").asText();
            assertDatasource(p.path("datasource"), title);
            assertTrue(p.path("targets").size() > 0, title + ": no queries");
            Set<String> refs = new HashSet<>();
            for (JsonNode t : p.path("targets")) {
                assertDatasource(t.path("datasource"), title + "/" + t.path("refId"));
                assertTrue(refs.add(t.path("refId").asText("")), title + ": duplicate or missing refId");
                assertFalse(t.path("expr").asText("").isBlank(), title + ": empty expr");
            }
        }
    }

    private static void assertDatasource(JsonNode ds, String where) {
        assertEquals("prometheus", ds.path("type").asText(), where + ": datasource type");
        assertEquals("${datasource}", ds.path("uid").asText(), where + ": datasource must be the ${datasource} variable");
    }

    @Test
    void variablesAreDefinedOnceAndEveryReferenceResolves() {
        Set<String> defined = new HashSet<>();
        for (JsonNode v : dash.variables()) {
            assertTrue(defined.add(v.path("name").asText()), "duplicate variable " + v.path("name"));
            if (v.path("type").asText().equals("query")) {
                assertEquals("${datasource}", v.path("datasource").path("uid").asText(), v.path("name") + ": datasource");
                assertTrue(Dashboard.variableQuery(v).startsWith("label_values("), v.path("name") + ": query");
            }
        }
        assertTrue(defined.containsAll(Set.of("datasource", "instance", "layer")), "variables: " + defined);
        for (Dashboard.Query q : dash.queries()) {
            for (String v : PromQl.variables(q.expr())) {
                assertTrue(defined.contains(v) || BUILTIN.contains(v), q.panel() + ": unknown variable $" + v);
            }
        }
        for (JsonNode v : dash.variables()) {
            String query = Dashboard.variableQuery(v);
            if (query == null) continue;
            for (String ref : PromQl.variables(query)) assertTrue(defined.contains(ref), v.path("name") + " uses $" + ref);
        }
    }

    @Test
    void perLayerQueriesFollowTheLayerVariable() {
        int perLayer = 0;
        for (Dashboard.Query q : dash.queries()) {
            if (q.expr().contains("by (layer)")) {
                perLayer++;
                assertTrue(q.expr().contains("layer=~\"$layer\""), q.panel() + ": per-layer query ignores $layer");
            }
        }
        assertTrue(perLayer >= 2, "expected per-layer hit-rate panels");
    }

    @Test
    void everyMetricIsOneTheServerDocumentsInMetricsMd() throws IOException {
        // deploy/PROPOSED-METRICS.md holds the flash-store names not yet in METRICS.md.
        String doc = Files.readString(Repo.root().resolve("server/METRICS.md"))
                + Files.readString(Repo.root().resolve("deploy/PROPOSED-METRICS.md"));
        Set<String> exact = new HashSet<>();
        List<String> prefixes = new ArrayList<>();
        Matcher m = Pattern.compile("`([a-z_:][a-z0-9_:]*)(\\*)?(?:\\{[^}`]*})?`").matcher(doc);
        while (m.find()) {
            if (m.group(2) != null) prefixes.add(m.group(1));
            else exact.add(m.group(1));
        }
        List<String> unknown = new ArrayList<>();
        for (Dashboard.Query q : dash.queries()) {
            for (String name : PromQl.metricNames(q.expr())) {
                String base = name.replaceAll("_(bucket|count|sum|max)$", "");
                boolean known = exact.contains(name) || exact.contains(base)
                        || prefixes.stream().anyMatch(name::startsWith);
                if (!known) unknown.add(q.panel() + ": " + name);
            }
        }
        assertTrue(unknown.isEmpty(), "metrics in neither server/METRICS.md nor deploy/PROPOSED-METRICS.md: " + unknown);
    }

    @Test
    void thePanelsOperatorsAskForAreAllThere() {
        Set<String> used = new HashSet<>();
        for (Dashboard.Query q : dash.queries()) used.addAll(PromQl.metricNames(q.expr()));
        // issue 7's list: hit rate per layer and overall, flash throughput and bytes per token, read
        // latency, predictor recall, DRAM budget and use, TTFT, ITL, tokens in/out, running/queued, errors
        List<String> wanted = List.of("flashllm_neuron_cache_hits_total", "flashllm_neuron_cache_lookups_total",
                "flashllm_flash_read_bytes_total", "flashllm_flash_read_seconds_bucket", "flashllm_predictor_recall",
                "flashllm_memory_budget_bytes", "flashllm_memory_used_bytes",
                "flashllm_time_to_first_token_seconds_bucket", "flashllm_inter_token_latency_seconds_bucket",
                "flashllm_prompt_tokens_total", "flashllm_generated_tokens_total", "flashllm_requests_running",
                "flashllm_requests_queued", "flashllm_http_requests_total");
        List<String> absent = wanted.stream().filter(w -> !used.contains(w)).toList();
        assertTrue(absent.isEmpty(), "the dashboard lost panels for " + absent);
        boolean bytesPerToken = dash.queries().stream().anyMatch(q -> q.expr().contains("flashllm_flash_read_bytes_total")
                && q.expr().contains("flashllm_generated_tokens_total") && q.expr().contains("/"));
        assertTrue(bytesPerToken, "no flash-bytes-per-generated-token query");
        boolean errorsByStatus = dash.queries().stream().anyMatch(q -> q.expr().contains("by (status)"));
        assertTrue(errorsByStatus, "no errors-by-status query");
    }

    private JsonNode variable(String name) {
        for (JsonNode v : dash.variables()) if (v.path("name").asText().equals(name)) return v;
        throw new AssertionError("no variable " + name);
    }
}
