package io.flashllm.flashstore.budget;

import com.sun.management.HotSpotDiagnosticMXBean;

import java.lang.management.ManagementFactory;

/**
 * The JVM's own memory beside the heap, which a memory budget sets aside before it sizes the neuron
 * cache: code cache, metaspace, class data, thread stacks, what the JIT compilers leave in the C
 * heap, and the pages of the JVM's own files (libjvm, the class-data archive). A cgroup charges all
 * of it like the model's pages, so every MiB reserved here and not used is a MiB of neuron cache lost.
 *
 * <p>Measured on the 1.1B bundle of the capped run after warm-up (RSS minus the heap and the budget's
 * other parts; docs/benchmarks.md §4, session 18): {@code bench} 131 MiB, of which ~40 MiB was C heap
 * that C2 had freed (its compile arenas) and glibc kept; with the JVM trimming the C heap
 * ({@code -XX:TrimNativeHeapInterval}, which {@code bin/flashllm} and the Docker image pass) 91 MiB.
 * The server also loads Vert.x, Netty and Micrometer: 158 and 127 MiB. On top come what the kernel
 * charges a cgroup beside (page tables, slab) and the growth after a long prompt: with 96 MiB
 * reserved the 800 MiB cgroup re-read ~130,000 pages of the resident file per run, with 112 MiB still
 * 21,000-83,000 after a 64-token prompt, with 128 MiB (the untrimmed JVM's old reserve, now with the
 * ~35 MiB that trimming frees as headroom) 900-1,900 in three runs, as the untrimmed JVM did in most. So
 * trimming buys headroom, not cache.
 *
 * <p>The reserve also has to hold the JIT's largest compile while it runs: C2 compiles a kernel in
 * tens of MB of C heap, which trimming returns afterwards. Session 49's Q8_0 batch kernel took 50-82
 * MB per compile, and the 800 MiB capped run then never finished (kernels/README.md, "What a
 * kernel's compile costs"). Nothing but that run shows such a regression; its script prints the major
 * page faults and stops a run that does not fit.
 */
public final class RuntimeOverhead {
    /** A command-line run (generate, bench, perplexity, calibrate) in a JVM that trims its C heap. */
    static final long CLI_TRIMMED = 128L << 20;
    /** {@code flashllm serve} in a JVM that trims its C heap. */
    static final long SERVER_TRIMMED = 160L << 20;
    /**
     * What the reserve gives back to the neuron cache when the resident tensors are locked in memory
     * ({@code io.flashllm.flashstore.io.MemoryLock}): the headroom above kept the kernel from evicting
     * and re-reading them; locked, what it evicts under pressure is the JVM's own file pages, of
     * which the hot ones are few. Measured under the 800 MiB cap (docs/benchmarks.md §4, session 26):
     * 32 MiB less reserve, locked, 227-239 major faults a run against 130,000-243,000 unlocked; 48
     * MiB less left ~8 MiB for every other file page and the JVM thrashed on its own code.
     */
    public static final long LOCKED_SAVING = 32L << 20;
    /** What glibc keeps of the JIT's freed memory when nothing trims it. */
    static final long UNTRIMMED_EXTRA = 32L << 20;

    /** The HotSpot option that makes the JVM give freed C heap back to the system every so many ms. */
    public static final String TRIM_OPTION = "TrimNativeHeapInterval";

    private RuntimeOverhead() {}

    /** The reserve for a command-line run ({@code server == false}) or the server, trimmed or not. */
    public static long bytes(boolean server, boolean trimmed) {
        return (server ? SERVER_TRIMMED : CLI_TRIMMED) + (trimmed ? 0 : UNTRIMMED_EXTRA);
    }

    /** The reserve for this JVM: {@link #bytes} with whether it runs with {@value #TRIM_OPTION} above 0. */
    public static long forThisJvm(boolean server) {
        return bytes(server, nativeHeapTrimmed());
    }

    /** True when this JVM trims its C heap periodically; false when it does not or cannot say (not HotSpot). */
    public static boolean nativeHeapTrimmed() {
        HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        if (vm == null) return false;
        try {
            return Long.parseLong(vm.getVMOption(TRIM_OPTION).getValue()) > 0;
        } catch (IllegalArgumentException absent) { // no such option (NumberFormatException is one too)
            return false;
        }
    }
}
