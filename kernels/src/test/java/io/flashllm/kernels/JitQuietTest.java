package io.flashllm.kernels;

import org.junit.jupiter.api.Test;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class JitQuietTest {
    private static final CompilationMXBean JIT = ManagementFactory.getCompilationMXBean();

    @Test
    void notSettledBeforeTheQuietTimeHasPassed() {
        assertFalse(new JitQuiet(60_000, 120_000).settled());
    }

    @Test
    void settledOnceTheLongestWaitHasPassedWhateverTheJitDoes() {
        assertTrue(new JitQuiet(60_000, 0).settled());
    }

    @Test
    void settlesWhenTheJitHasBeenIdle() throws InterruptedException {
        JitQuiet quiet = new JitQuiet(50, 60_000);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!quiet.settled()) {
            assertTrue(System.nanoTime() < deadline, "never settled");
            Thread.sleep(10);
        }
    }

    @Test
    void aFinishedCompileStartsTheQuietTimeAgain() throws InterruptedException {
        assumeTrue(JIT != null && JIT.isCompilationTimeMonitoringSupported(), "the JVM does not count compile time");
        JitQuiet quiet = new JitQuiet(300, 60_000);
        Thread.sleep(400); // long enough to be settled had nothing been compiled since
        long before = JIT.getTotalCompilationTime(), deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int sink = 0;
        for (int i = 0; JIT.getTotalCompilationTime() == before; i++) {
            assumeTrue(System.nanoTime() < deadline, "nothing was compiled in 30 s");
            sink += String.format(Locale.ROOT, "%d-%x", i, i * 31).hashCode(); // new code paths until the JIT compiles one
        }
        assertFalse(quiet.settled(), "settled right after a compile finished (" + sink + ")");
    }
}
