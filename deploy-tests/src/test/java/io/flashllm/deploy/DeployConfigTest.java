package io.flashllm.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** docker-compose.yml, the Prometheus and Grafana provisioning files and the Dockerfile agree. */
class DeployConfigTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static JsonNode yaml(String path) throws IOException {
        return YAML.readTree(Repo.root().resolve(path).toFile());
    }

    /** Bind mounts of a compose service: container path -> host path (relative to the repo). */
    private static Map<String, String> mounts(JsonNode service) {
        Map<String, String> out = new HashMap<>();
        for (JsonNode v : service.path("volumes")) {
            String[] parts = v.asText().split(":");
            if (parts[0].startsWith(".")) out.put(parts[1], parts[0]);
        }
        return out;
    }

    @Test
    void composeWiresTheThreeServicesToTheRepositoryConfig() throws IOException {
        JsonNode services = yaml("docker-compose.yml").path("services");
        JsonNode flashllm = services.path("flashllm");
        JsonNode prometheus = services.path("prometheus");
        JsonNode grafana = services.path("grafana");
        assertTrue(flashllm.isObject() && prometheus.isObject() && grafana.isObject(), "services: " + services);

        assertTrue(flashllm.path("mem_limit").asText().matches("\\d+[kmg]"), "flashllm needs a memory limit");
        assertTrue(mounts(flashllm).containsKey("/models"), "the model folder must be mounted at /models");
        assertTrue(flashllm.path("ports").path(0).asText().endsWith(":8080"), "published port");

        for (JsonNode service : List.of(prometheus, grafana)) {
            for (String host : mounts(service).values()) {
                assertTrue(Files.exists(Repo.root().resolve(host)), "compose mounts " + host + ", which does not exist");
            }
        }
        assertEquals("./config/prometheus/prometheus.yml", mounts(prometheus).get("/etc/prometheus/prometheus.yml"));
        assertEquals("./config/grafana/provisioning", mounts(grafana).get("/etc/grafana/provisioning"));
        String dashboardsMount = "/var/lib/grafana/dashboards";
        assertEquals("./config/grafana/dashboards", mounts(grafana).get(dashboardsMount));

        JsonNode provider = yaml("config/grafana/provisioning/dashboards/flashllm.yml").path("providers").path(0);
        assertEquals(dashboardsMount, provider.path("options").path("path").asText(), "dashboard provider path");
        String home = grafana.path("environment").path("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH").asText();
        assertTrue(home.startsWith(dashboardsMount + "/")
                && Files.isRegularFile(Repo.dashboards().resolve(home.substring(dashboardsMount.length() + 1))),
                "home dashboard " + home);

        JsonNode ds = yaml("config/grafana/provisioning/datasources/prometheus.yml").path("datasources").path(0);
        assertEquals("http://prometheus:9090", ds.path("url").asText(), "datasource points at the prometheus service");
    }

    @Test
    void prometheusScrapesTheFlashllmServiceOnItsPort() throws IOException {
        JsonNode job = null;
        for (JsonNode j : yaml("config/prometheus/prometheus.yml").path("scrape_configs")) {
            if (j.path("job_name").asText().equals("flashllm")) job = j;
        }
        assertTrue(job != null, "no flashllm job");
        assertEquals("flashllm:8080", job.path("static_configs").path(0).path("targets").path(0).asText());
        assertEquals("/metrics", job.path("metrics_path").asText("/metrics"));
        // Grafana's $__rate_interval assumes the data source's timeInterval is the scrape interval.
        JsonNode ds = yaml("config/grafana/provisioning/datasources/prometheus.yml").path("datasources").path(0);
        assertEquals(job.path("scrape_interval").asText(), ds.path("jsonData").path("timeInterval").asText());
    }

    @Test
    void promtoolAcceptsThePrometheusConfig() throws Exception {
        Path promtool = Repo.executable("promtool");
        Repo.require(promtool != null, "promtool is not installed (apt-get install prometheus)");
        DockerImage.Result r = DockerImage.run(List.of(promtool.toString(), "check", "config",
                Repo.root().resolve("config/prometheus/prometheus.yml").toString()), 60);
        assertEquals(0, r.exit(), "promtool check config:\n" + r.output());
    }

    @Test
    void dockerfileRunsTheJvmAsPid1AsANonRootUser() throws IOException {
        String df = Files.readString(Repo.root().resolve("Dockerfile"));
        Matcher entry = Pattern.compile("(?m)^ENTRYPOINT\\s+(.+)$").matcher(df);
        assertTrue(entry.find(), "no ENTRYPOINT");
        JsonNode argv = new ObjectMapper().readTree(entry.group(1));
        assertTrue(argv.isArray() && argv.path(0).asText().endsWith("/bin/java"),
                "ENTRYPOINT must be exec form starting the JVM, so SIGTERM reaches it: " + entry.group(1));
        Matcher user = Pattern.compile("(?m)^USER\\s+(\\S+)").matcher(df);
        assertTrue(user.find() && !user.group(1).startsWith("root") && !user.group(1).startsWith("0"), "USER");
        assertTrue(Pattern.compile("(?m)^ARG JDK_IMAGE=eclipse-temurin:25").matcher(df).find(), "default JDK image");
        Matcher hc = Pattern.compile("(?m)^HEALTHCHECK .*CMD \\[\"([^\"]+)\"").matcher(df);
        assertTrue(hc.find(), "HEALTHCHECK in exec form");
        assertTrue(df.contains("COPY deploy/healthcheck.sh " + hc.group(1)), "the health check program is copied in");
        assertTrue(df.contains("VOLUME [\"/models\"]"), "model volume");
        assertTrue(df.contains("jlink"), "runtime made with jlink");
    }
}
