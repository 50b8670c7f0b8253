package io.flashllm.server.cli;

/** The context a session opens with, for the CLI commands and for each of serve's slots. */
public final class ContextLength {
    /** Cap on the model's own context when none is asked for: every session allocates a KV cache this long. */
    public static final int DEFAULT_MAX = 4096;

    private ContextLength() {}

    /** {@code requested} when positive, else the model's own context capped at {@link #DEFAULT_MAX}. */
    public static int of(int requested, int modelContext) {
        if (requested > 0) return requested;
        return modelContext > 0 ? Math.min(modelContext, DEFAULT_MAX) : DEFAULT_MAX;
    }
}
