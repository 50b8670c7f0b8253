package io.flashllm.kernels;

import io.flashllm.kernels.bench.MixedTypesAllocation;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every type's products through the same call sites allocate nothing once compiled, in a JVM
 * started with {@link JitFlags#FLAGS}. Each run is a fresh JVM under {@code -Xbatch}: compiling in
 * the foreground makes the boxed compile of the multi-row K-quant kernels likely (13 of 20 runs
 * allocated without the flags, 0 of 46 with them), so three runs catch a launcher or build that
 * lost the flags with high probability.
 */
class MixedTypesAllocationTest {
    private static final int RUNS = 3;

    @Test
    void noTypeAllocatesWhenEveryTypeSharesTheCallSites() throws Exception {
        for (int run = 0; run < RUNS; run++) {
            List<String> cmd = new ArrayList<>(List.of(java(), "-Xbatch", "--add-modules", "jdk.incubator.vector"));
            cmd.addAll(JitFlags.FLAGS);
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), MixedTypesAllocation.class.getName()));
            Result r = run(cmd);
            assertEquals(0, r.exit, "run " + (run + 1) + " of " + RUNS + " allocated:\n" + r.output);
            assertTrue(r.output.contains("Q4_K"), r.output);
        }
    }

    @Test
    void theTestJvmHasTheFlagsAndAJvmWithoutThemIsToldSo() throws Exception {
        assertTrue(JitFlags.missing().isEmpty(), "surefire's argLine (flashllm.jvm.flags) lacks " + JitFlags.FLAGS);
        Result r = run(List.of(java(), "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                Probe.class.getName()));
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("-XX:+IncrementalInlineForceCleanup") && r.output.contains("slower"), r.output);
    }

    /** Prints what {@link JitFlags#missing()} says in its JVM. */
    static final class Probe {
        public static void main(String[] args) {
            System.out.println(JitFlags.missing().orElse("flags present"));
        }
    }

    private record Result(int exit, String output) {}

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static Result run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("child JVM did not finish: " + cmd);
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
