package io.flashllm.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/** Paths of the repository the tests check, and the rule for skipping where a tool is missing. */
final class Repo {
    private Repo() {}

    static Path root() {
        String p = System.getProperty("flashllm.root");
        Path root = p != null ? Path.of(p) : Path.of("").toAbsolutePath().getParent();
        return root.toAbsolutePath().normalize();
    }

    static Path dashboards() { return root().resolve("config/grafana/dashboards"); }

    static Path dashboard() { return dashboards().resolve("flashllm.json"); }

    static Path jar() { return root().resolve("server/target/flashllm.jar"); }

    /**
     * Skips the test with the reason, unless FLASHLLM_REQUIRE_DEPLOY_TESTS=1 (set by .ci/run, where
     * Docker and Prometheus are installed): then a missing tool is a failure, not a silent skip.
     */
    static void require(boolean present, String reason) {
        if (present) return;
        if ("1".equals(System.getenv("FLASHLLM_REQUIRE_DEPLOY_TESTS"))) {
            Assertions.fail(reason + " (FLASHLLM_REQUIRE_DEPLOY_TESTS=1, so this is not skipped)");
        }
        Assumptions.abort(reason);
    }

    static void requireJar() {
        require(Files.isRegularFile(jar()),
                jar() + " is not built; run ./mvnw -DskipTests package (these tests run in the verify phase)");
    }

    /** An executable on PATH or in the usual Debian places, or null. */
    static Path executable(String name) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/bin:/usr/sbin:/usr/local/bin";
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return p;
        }
        return null;
    }
}
