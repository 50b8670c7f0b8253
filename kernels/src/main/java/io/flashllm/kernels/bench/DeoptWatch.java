package io.flashllm.kernels.bench;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts the JIT's deoptimizations of kernel code while a benchmark measures, from JFR's
 * {@code jdk.Deoptimization} events. A figure taken while C2 keeps throwing away and recompiling a
 * kernel is not the kernel's speed: session 25 found Q4_0's 256-bit {@code dot4} looping through
 * profile-predicate traps in KernelBench (270 ms a product instead of 0.4) with nothing else to
 * show for it. Steady-state kernels deoptimize zero or a few times.
 */
final class DeoptWatch {
    private static Recording recording;
    private final Instant from = Instant.now();

    DeoptWatch() {
        start();
    }

    /**
     * Starts the process's one recording, if not yet started. Starting a recording is a JVMTI state
     * change, which throws away the compiles in flight ("COMPILE SKIPPED: Jvmti state change
     * invalidated dependencies"), so KernelBench starts it before any warm-up rather than at each
     * measured window, where the discarded kernel compile was measured running interpreted.
     */
    static synchronized void start() {
        if (recording != null) return;
        recording = new Recording();
        recording.enable("jdk.Deoptimization");
        recording.start();
    }

    /**
     * Returns null unless, since this watch was made, one method of the kernels (the benchmarks' own
     * code aside) was deoptimized for one reason {@code limit} or more times, else a line naming the
     * count and every method and reason. A single trap here and there is the JIT meeting a branch it
     * had not seen; the same trap again and again is a compile that keeps failing the same way.
     */
    String report(int limit) {
        Path file = null;
        try {
            file = Files.createTempFile("kernelbench-deopt", ".jfr");
            recording.dump(file);
            Map<String, Integer> reasons = new TreeMap<>();
            int count = 0;
            for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                // a recording of the user's own (-XX:StartFlightRecording) adds its events to the dump
                if (!e.getEventType().getName().equals("jdk.Deoptimization") || e.getStartTime().isBefore(from)) continue;
                RecordedMethod m = e.getValue("method");
                if (m == null) continue;
                String type = m.getType().getName();
                if (!type.startsWith("io.flashllm.kernels.") || type.startsWith("io.flashllm.kernels.bench.")) continue;
                count++;
                reasons.merge(e.getString("reason") + " in " + type.replaceAll(".*\\.", "") + "." + m.getName(), 1, Integer::sum);
            }
            int most = reasons.values().stream().mapToInt(Integer::intValue).max().orElse(0);
            return most < limit ? null : count + " deoptimizations of kernel code while measured (" + reasons + ")";
        } catch (IOException ex) {
            return "deoptimizations not counted: " + ex.getMessage();
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a temporary file left behind is not worth failing the benchmark for
                }
            }
        }
    }
}
