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
        String out = launch(opts + " -Xlog:gc,gc+init");
        assertTrue(out.contains("flashllm "), out);
        List<String> lines = out.lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.contains(collector)), "expected '" + collector + "' in:\n" + out);
        assertTrue(lines.stream().anyMatch(l -> l.contains("Heap Max Capacity: " + heap)),
                "expected a maximum heap of " + heap + " in:\n" + out);
    }

    /** The launcher trims the C heap each second (a budget then reserves less); FLASHLLM_JAVA_OPTS can turn it off. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''                              | true",
            "-XX:TrimNativeHeapInterval=0    | false",
    })
    void theCHeapIsTrimmedUnlessFlashllmJavaOptsSaysNo(String opts, boolean trimmed) throws IOException, InterruptedException {
        String out = launch(opts + " -Xlog:trimnative");
        assertEquals(trimmed, out.contains("Periodic native trim enabled (interval: 1000 ms)"), out);
    }

    private static String launch(String opts) throws IOException, InterruptedException {
        Repo.requireJar();
        ProcessBuilder pb = new ProcessBuilder(Repo.root().resolve("bin/flashllm").toString(), "--version")
                .directory(Repo.root().toFile()).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("FLASHLLM_JAVA_OPTS", opts.trim());
        Process p = pb.start();
        String out;
        try (var in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "launcher did not exit");
        assertEquals(0, p.exitValue(), "FLASHLLM_JAVA_OPTS='" + opts + "':\n" + out);
        return out;
    }
}
