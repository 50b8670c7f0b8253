package io.flashllm.kernels.cpu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The CPU's vendor as Linux reports it ({@code vendor_id} in {@code /proc/cpuinfo}), for the few
 * kernel choices that depend on a microarchitecture's cost of an instruction rather than on the
 * instruction set the JIT already sees. Elsewhere (no such file, no such line) it is unknown.
 */
final class CpuVendor {
    private static final String VENDOR = read(Path.of("/proc/cpuinfo"));

    private CpuVendor() {}

    static boolean isIntel() {
        return "GenuineIntel".equals(VENDOR);
    }

    /** The first {@code vendor_id} value of a cpuinfo file, or "" when it has none or cannot be read. */
    static String read(Path cpuinfo) {
        if (!Files.isReadable(cpuinfo)) return "";
        try (Stream<String> lines = Files.lines(cpuinfo)) {
            return lines.filter(l -> l.startsWith("vendor_id"))
                    .map(l -> l.substring(l.indexOf(':') + 1).strip())
                    .findFirst().orElse("");
        } catch (IOException | UncheckedIOException e) {
            return "";
        }
    }
}
