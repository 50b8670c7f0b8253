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

    /**
     * A heap of 128 MiB or less under the Serial or Parallel collector gets a young generation of an
     * eighth of it (at least 4 MiB), unless FLASHLLM_JAVA_OPTS sizes it; larger heaps and other
     * collectors keep the JVM's own sizing ({@code 0} below: anything but the launcher's eighth).
     * With the default third, a 48 MiB heap's old generation was smaller than what the engine keeps
     * live, and the warm-up ran ~400 full collections (docs/benchmarks.md §4, session 26).
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "-Xmx48m -XX:+UseSerialGC            | 6",
            "-Xmx64m                             | 8",
            "-XX:MaxHeapSize=50331648 -XX:+UseParallelGC | 6",
            "-Xmx20m -XX:+UseSerialGC            | 4",
            "-Xmx128M                            | 16",
            "-Xmx48m -Xmn12m -XX:+UseSerialGC    | 12",
            "-Xmx48m -XX:NewRatio=3              | 0",
            "-Xmx1g                              | 0",
            "-Xmx96m -XX:+UseG1GC                | 0",
    })
    void aSmallHeapGetsAYoungGenerationOfAnEighth(String opts, long expectedMib) throws IOException, InterruptedException {
        String out = launch(opts + " -XX:+PrintFlagsFinal");
        long maxNew = out.lines().filter(l -> l.matches("\\s*size_t MaxNewSize\\s+=.*"))
                .mapToLong(l -> Long.parseLong(l.split("=")[1].trim().split("\\s+")[0])).findFirst()
                .orElseThrow(() -> new AssertionError("no MaxNewSize in:\n" + out));
        long mib = maxNew >> 20;
        if (expectedMib > 0) {
            assertEquals(expectedMib, mib, opts);
        } else {
            long heapMib = out.lines().filter(l -> l.matches("\\s*size_t MaxHeapSize\\s+=.*"))
                    .mapToLong(l -> Long.parseLong(l.split("=")[1].trim().split("\\s+")[0]) >> 20).findFirst().orElseThrow();
            assertTrue(mib != Math.max(4, heapMib / 8), opts + ": the launcher sized the young generation (" + mib + " MiB)");
        }
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
