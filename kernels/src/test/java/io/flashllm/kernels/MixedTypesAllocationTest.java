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
 * Every type's products through the same call sites allocate nothing once compiled, in a JVM started with
 * {@link JitFlags#FLAGS}. Each run is a fresh JVM, at 512 and 256 bits under {@code -Xbatch}: compiling in
 * the foreground makes the boxed compile of the multi-row K-quant kernels likely (13 of 20 runs allocated
 * without the flags, 0 of 46 with them in session 16; one boxed Q6_K in about 100 runs with them since, in
 * a loaded CI run). So the verdict is by runs: four clean runs pass, two boxed runs fail, at most five
 * runs. Without the flags (p about 0.65 a run) that fails 19 times in 20; with them (p about 0.01) about
 * once in 1,000.
 */
class MixedTypesAllocationTest {
    private static final int PASS_AFTER_CLEAN = 4;
    private static final int FAIL_AFTER_BOXED = 2;

    @Test
    void noTypeAllocatesWhenEveryTypeSharesTheCallSites() throws Exception {
        assertRunsClean(List.of());
    }

    /**
     * The same at 256 bits, the AVX2 kernels (on a machine with wider vectors, its kernels run
     * narrowed to 256 bits). Before the 256-bit Q4_1/Q5_0/Q5_1/Q5_K kernels, their buffered path
     * allocated in every run here, and Q6_K's two-row loop in some (session 24).
     */
    @Test
    void noTypeAllocatesAt256Bits() throws Exception {
        assertRunsClean(List.of("-Dflashllm.vector.bits=256"));
    }

    /**
     * The same at 128 bits (the narrow kernels: aarch64's NEON, x86 without AVX2), compiled in the
     * background as in a real run. Under {@code -Xbatch} every run at this width allocates (7 of
     * 7 with the flags, session 45): JFR finds the allocations in Vector API methods that C2 left
     * as calls ({@code Byte64Vector.convertShape}, {@code ByteVector.and}'s broadcast), in kernels
     * whose 64-bit byte vectors share the library's call sites with {@code SubBlockKernel}'s
     * 128-bit ones; with {@code -XX:-UseBimorphicInlining} 7 of 8 such runs were clean, so C2
     * inlining both shapes at those sites is the likely cause (kernels/README.md). Compiled in the
     * background: 0 of 30 runs allocated.
     */
    @Test
    void noTypeAllocatesAt128BitsCompiledInTheBackground() throws Exception {
        assertRunsClean(List.of("-Dflashllm.vector.bits=128"), false);
    }

    private static void assertRunsClean(List<String> jvmOptions) throws Exception {
        assertRunsClean(jvmOptions, true);
    }

    private static void assertRunsClean(List<String> jvmOptions, boolean batch) throws Exception {
        int clean = 0;
        List<String> boxed = new ArrayList<>();
        while (clean < PASS_AFTER_CLEAN && boxed.size() < FAIL_AFTER_BOXED) {
            List<String> cmd = new ArrayList<>(List.of(java(), "--add-modules", "jdk.incubator.vector"));
            if (batch) cmd.add("-Xbatch");
            cmd.addAll(JitFlags.FLAGS);
            cmd.addAll(jvmOptions);
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), MixedTypesAllocation.class.getName()));
            Result r = run(cmd);
            assertTrue(r.output.contains("Q4_K"), r.output);
            if (r.exit == 0) {
                clean++;
            } else {
                boxed.add(r.output);
            }
        }
        assertTrue(boxed.size() < FAIL_AFTER_BOXED, boxed.size() + " runs allocated (" + clean + " clean):\n"
                + String.join("\n", boxed));
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
