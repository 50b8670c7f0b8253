package io.flashllm.kernels.bench;

import java.lang.management.ManagementFactory;

/**
 * What a piece of hot-path code allocates once the JIT has compiled it, for the allocation tests of
 * the kernels and the engine: until C2 has compiled a vector loop it runs interpreted or in C1 with
 * boxed vectors, so a single window says little.
 */
public final class ThreadAllocation {
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private ThreadAllocation() {}

    /**
     * Bytes this thread allocates over {@code runs} runs of {@code work} in the cleanest window, windows
     * measured until one allocates under 1 KiB or {@code seconds} pass. (Code that boxes allocates
     * megabytes per 1,000 calls; the margin is for whatever the JVM itself charges to the thread.)
     */
    public static long cleanestWindow(Runnable work, int runs, int seconds) {
        long tid = Thread.currentThread().threadId();
        long allocated = Long.MAX_VALUE;
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (allocated >= 1024 && System.nanoTime() < deadline) {
            long before = MX.getThreadAllocatedBytes(tid);
            for (int i = 0; i < runs; i++) work.run();
            allocated = Math.min(allocated, MX.getThreadAllocatedBytes(tid) - before);
        }
        return allocated;
    }
}
