package io.flashllm.kernels;

import com.sun.management.HotSpotDiagnosticMXBean;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Optional;

/**
 * The HotSpot flags the kernels need, and a check that the running JVM has them.
 *
 * <p>C2 inlines the Vector API's intrinsics late, one call at a time. Without a clean-up between
 * those steps, a late-inlined {@code convert}/{@code convertShape} can meet its input vector with a
 * type C2 has not sharpened yet; the species lookup inside ({@code AbstractSpecies.findSpecies})
 * then does not fold to a constant, the conversion's input is boxed, and the kernel allocates a
 * vector object per operation for the life of the process (10-100x slower). Whether it happens
 * depends on the order of compilation, so only some runs are hit: the multi-row K-quant kernels
 * in 13 of 20 runs of {@code MixedTypesAllocation} under {@code -Xbatch}. With
 * {@code IncrementalInlineForceCleanup} (a diagnostic flag of every HotSpot build with C2) C2 cleans the
 * graph after each late inline: 0 of 46 such runs allocated (kernels/README.md).
 */
public final class JitFlags {
    /** The option {@link #FLAGS} turns on. */
    static final String OPTION = "IncrementalInlineForceCleanup";
    /**
     * Flags to put on the java command line, in this order. After the clean-up flag, commands that
     * inline {@link io.flashllm.kernels.cpu.VectorMath}'s exp and tanh at every call: C2 inlines a method
     * of their size only where the profile says the call is hot, so a loop first compiled when it had run
     * only its scalar tail (a softmax over a decode's first few positions) kept a call to exp that C2 had
     * judged cold, and boxed the vectors crossing it from then on ("callee is too large" under
     * PrintInlining; the engine's AttentionAllocationTest, run after its small-model tests, failed without
     * them in 3 runs of 3 at one commit and 1 of 2 at the next, and in a CI run). {@code quiet} keeps HotSpot from printing the commands on standard output.
     */
    public static final List<String> FLAGS = List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:+" + OPTION,
            "-XX:CompileCommand=quiet", "-XX:CompileCommand=inline,io.flashllm.kernels.cpu.VectorMath::exp",
            "-XX:CompileCommand=inline,io.flashllm.kernels.cpu.VectorMath::tanh");

    private JitFlags() {}

    /**
     * Empty when the running JVM has {@link #FLAGS} (or is not HotSpot with C2, where they mean nothing);
     * otherwise what is missing and what it costs, for a warning at start-up.
     */
    public static Optional<String> missing() {
        HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        if (vm == null || !hasOption(vm, "IncrementalInline")) return Optional.empty(); // not HotSpot with C2
        // A diagnostic flag reads as absent until UnlockDiagnosticVMOptions, which counts as not set.
        if (hasOption(vm, OPTION) && Boolean.parseBoolean(vm.getVMOption(OPTION).getValue())) return Optional.empty();
        return Optional.of("the JVM runs without " + String.join(" ", FLAGS) + ": in some runs C2 then compiles "
                + "the quantized kernels with boxed vectors and decoding is 10-100x slower for the life of the "
                + "process. bin/flashllm and the Docker image pass them; add them when starting the jar yourself.");
    }

    private static boolean hasOption(HotSpotDiagnosticMXBean vm, String name) {
        try {
            vm.getVMOption(name);
            return true;
        } catch (IllegalArgumentException absent) {
            return false;
        }
    }
}
