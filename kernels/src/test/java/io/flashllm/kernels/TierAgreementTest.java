package io.flashllm.kernels;

import io.flashllm.kernels.bench.TierAgreement;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kernel gives the same bits in every JIT tier, so a run's log-probabilities do not depend on
 * when C2 compiled what. Each width in a fresh JVM, where the first products run in the
 * interpreter: {@link TierAgreement} compares every later result (compiled in the foreground,
 * {@code -Xbatch}, so C2's code runs well within the time) with the first, bit for bit. With
 * {@code reduceLanes(ADD)} in the kernels all 16 types differed at 512 bits (in 150-181 of 183 later calls).
 */
class TierAgreementTest {
    @Test
    void everyTypeAgreesAcrossTiersAtTheDefaultWidth() throws Exception {
        assertAgree(List.of());
    }

    @Test
    void everyTypeAgreesAcrossTiersAt256Bits() throws Exception {
        assertAgree(List.of("-Dflashllm.vector.bits=256"));
    }

    @Test
    void everyTypeAgreesAcrossTiersAt128Bits() throws Exception {
        assertAgree(List.of("-Dflashllm.vector.bits=128"));
    }

    private static void assertAgree(List<String> options) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Xbatch"));
        cmd.addAll(JitFlags.FLAGS);
        cmd.addAll(options);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TierAgreement.class.getName(), "all", "6"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("child JVM did not finish: " + cmd);
        }
        assertTrue(out.contains("Q4_K") && out.contains("ops"), out);
        assertEquals(0, p.exitValue(), out);
    }
}
