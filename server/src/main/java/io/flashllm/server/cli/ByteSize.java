package io.flashllm.server.cli;

import io.flashllm.flashstore.budget.MemorySize;

/** Sizes as people type them (600M, 1.5G, 512KiB, 4096): {@link MemorySize}, with the CLI's usage error. */
final class ByteSize {
    private ByteSize() {}

    static long parse(String text, String option) {
        try {
            return MemorySize.parse(text);
        } catch (IllegalArgumentException e) {
            throw new CliErrors.UsageException(option + " takes a size such as 600M, 1.5G or 4096, not '" + text + "'");
        }
    }
}
