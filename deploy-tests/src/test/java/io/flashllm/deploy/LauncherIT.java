package io.flashllm.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code bin/flashllm} as a user starts it: its JVM defaults (Parallel collector, 256 MiB heap) give
 * way to what {@code FLASHLLM_JAVA_OPTS} asks for. A collector chosen there used to be passed beside
 * the default one, and the JVM refused to start ("Multiple garbage collectors selected").
 */
class LauncherIT {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''                             | Using Parallel | 256M",
            "-XX:+UseSerialGC               | Using Serial   | 256M",
            "-XX:+UseG1GC -Xmx48m           | Using G1       | 48M",
            "-Xmx96m -XX:+UseParallelGC     | Using Parallel | 96M",
    })
    void theCollectorAndHeapOfFlashllmJavaOptsWin(String opts, String collector, String heap)
            throws IOException, InterruptedException {
        Repo.requireJar();
        String java = System.getProperty("java.home");
        ProcessBuilder pb = new ProcessBuilder(Repo.root().resolve("bin/flashllm").toString(), "--version")
                .directory(Repo.root().toFile()).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", java);
        pb.environment().put("FLASHLLM_JAVA_OPTS", (opts + " -Xlog:gc,gc+init").trim());
        Process p = pb.start();
        String out;
        try (var in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "launcher did not exit");
        assertEquals(0, p.exitValue(), "FLASHLLM_JAVA_OPTS='" + opts + "':\n" + out);
        assertTrue(out.contains("flashllm "), out);
        List<String> lines = out.lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.contains(collector)), "expected '" + collector + "' in:\n" + out);
        assertTrue(lines.stream().anyMatch(l -> l.contains("Heap Max Capacity: " + heap)),
                "expected a maximum heap of " + heap + " in:\n" + out);
    }
}
