package io.flashllm.flashstore.budget;

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
 * The runtime's share of a memory budget: smaller for a command-line run than for the server, and
 * 32 MiB larger when the JVM keeps the C heap its compilers freed. Whether the JVM trims is read
 * from the running JVM, so it is checked in fresh JVMs started with and without the option.
 */
class RuntimeOverheadTest {

    @Test
    void theServerReservesMoreAndAnUntrimmedJvmMoreStill() {
        assertEquals(128L << 20, RuntimeOverhead.bytes(false, true));
        assertEquals(160L << 20, RuntimeOverhead.bytes(true, true));
        assertEquals(160L << 20, RuntimeOverhead.bytes(false, false));
        assertEquals(192L << 20, RuntimeOverhead.bytes(true, false));
    }

    @Test
    void aJvmTrimsWhenStartedWithAPositiveInterval() throws Exception {
        assertEquals("trimmed=true cli=" + (128L << 20), probe("-XX:TrimNativeHeapInterval=1000"));
        assertEquals("trimmed=false cli=" + (160L << 20), probe("-XX:TrimNativeHeapInterval=0"));
        assertEquals("trimmed=false cli=" + (160L << 20), probe(null));
    }

    @Test
    void thisJvmIsReadTheSameWay() {
        assertEquals(RuntimeOverhead.bytes(true, RuntimeOverhead.nativeHeapTrimmed()), RuntimeOverhead.forThisJvm(true));
        assertEquals(RuntimeOverhead.bytes(false, RuntimeOverhead.nativeHeapTrimmed()), RuntimeOverhead.forThisJvm(false));
    }

    /** Prints what {@link RuntimeOverhead} says in its JVM. */
    static final class Probe {
        public static void main(String[] args) {
            System.out.println("trimmed=" + RuntimeOverhead.nativeHeapTrimmed() + " cli=" + RuntimeOverhead.forThisJvm(false));
        }
    }

    private static String probe(String option) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        if (option != null) cmd.add(option);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Probe.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out;
        try (var in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe JVM did not exit");
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
