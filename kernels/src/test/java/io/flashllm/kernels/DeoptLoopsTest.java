package io.flashllm.kernels;

import io.flashllm.kernels.bench.DeoptLoops;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No type's kernels keep being deoptimized once compiled: each type alone in a fresh JVM (the
 * profile a model of one type gives), its products over one matrix counted by {@link DeoptLoops}.
 * Until session 25 Q4_0 failed this with {@code -XX:UseAVX=2} in 3 runs of 3 (8-9 profile-predicate
 * traps of {@code Q4_0Kernel.dot4} in a second, 2.4 ms a product instead of ~4 us).
 */
class DeoptLoopsTest {

    @Test
    void noKernelLoopsThroughDeoptimizationsAtTheMachinesWidth() throws Exception {
        assertNoLoops(List.of());
    }

    /** AVX2 code on an x86 machine with wider vectors: the JIT emits what an AVX2 CPU would run. */
    @Test
    void noKernelLoopsThroughDeoptimizationsWithAvx2() throws Exception {
        String arch = System.getProperty("os.arch");
        Assumptions.assumeTrue(arch.equals("amd64") || arch.equals("x86_64"), "AVX2 is an x86 option; this is " + arch);
        assertNoLoops(List.of("-XX:UseAVX=2"));
    }

    private static void assertNoLoops(List<String> jvmOptions) throws Exception {
        List<String> failed = new ArrayList<>();
        for (GgmlType t : GgmlType.values()) {
            List<String> cmd = new ArrayList<>(List.of(java(), "--add-modules", "jdk.incubator.vector",
                    "--enable-native-access=ALL-UNNAMED"));
            cmd.addAll(JitFlags.FLAGS);
            cmd.addAll(jvmOptions);
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), DeoptLoops.class.getName(), "1.0",
                    t.name()));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("child JVM did not finish: " + cmd);
            }
            String output = new String(out, StandardCharsets.UTF_8);
            assertTrue(output.contains(t.name() + " "), output);
            if (p.exitValue() != 0) failed.add(output);
        }
        assertTrue(failed.isEmpty(), String.format(Locale.ROOT, "%d types looped through deoptimizations %s:%n%s",
                failed.size(), jvmOptions, String.join("\n", failed)));
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
