package io.flashllm.kernels;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;

/**
 * Tells a warm-up loop when the JIT has been idle long enough. A kernel's first products in a new
 * setting (another segment class, a branch not taken before) trap, and C2 recompiles it: half a
 * second for the big multi-row loops on a loaded core, while the products run interpreted, 100x
 * slower. A warm-up of fixed length let such a recompile fall into what came next (KernelBench
 * printed a Q4_K product at 33 and 38 ms instead of 0.2 in 2 of 24 runs, session 45).
 */
public final class JitQuiet {
    private static final CompilationMXBean JIT = ManagementFactory.getCompilationMXBean();

    private final long quietNanos;
    private final long giveUp;
    private long since;
    private long compiled;

    /** Settled after {@code quietMillis} without a finished compilation, or {@code maxMillis} from now in any case. */
    public JitQuiet(long quietMillis, long maxMillis) {
        quietNanos = quietMillis * 1_000_000;
        since = System.nanoTime();
        giveUp = since + maxMillis * 1_000_000;
        compiled = compileMillis();
    }

    /** True once no compilation has finished for the quiet time (or the longest wait has passed). */
    public boolean settled() {
        long now = System.nanoTime(), c = compileMillis();
        if (c != compiled) {
            compiled = c;
            since = now;
        }
        return now - since >= quietNanos || now - giveUp >= 0;
    }

    /** Milliseconds the JIT has spent compiling; 0 where the JVM does not count them (then no wait). */
    private static long compileMillis() {
        return JIT != null && JIT.isCompilationTimeMonitoringSupported() ? JIT.getTotalCompilationTime() : 0;
    }
}
