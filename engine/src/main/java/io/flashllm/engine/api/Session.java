package io.flashllm.engine.api;

import java.io.IOException;
import java.nio.file.Path;

/** One conversation's state (KV cache, sampler); not thread-safe; close() frees its off-heap memory. */
public interface Session extends AutoCloseable {
    GenerationResult generate(int[] promptTokens, SamplingParams params, GenerationListener listener);

    /**
     * How many leading tokens of {@code promptTokens} this session's KV cache already holds, which
     * {@link #generate} would not run again (0 for a new session). A server gives a conversation's
     * next turn to the slot whose session answers most.
     */
    int reusablePrefix(int[] promptTokens);

    /**
     * The embedding of {@code tokens} (run from position 0, all of them, whatever the cache held):
     * their final hidden states pooled, not normalized. The KV cache holds the tokens afterwards, so a
     * {@link #generate} whose prompt starts with them reuses them. {@code listener} hears prompt progress
     * and may throw from it to stop; its other callbacks are not used.
     *
     * @throws IllegalArgumentException when there are no tokens, more than the context holds, or one
     *         outside the vocabulary
     */
    float[] embed(int[] tokens, Pooling pooling, GenerationListener listener);

    /** Positions whose keys and values this session holds (its last prompt and reply so far). */
    int heldTokens();

    /**
     * Whether {@link #saveKv} and {@link #restoreKv} apply: the keys and values are in host memory.
     * A sequence decoded on a device backend keeps them on the device, and a server runs such a
     * conversation's history again rather than saving it.
     */
    boolean kvSavable();

    /**
     * Writes the held tokens and their keys and values to {@code file} (created or replaced) and
     * returns the tokens written; a later {@link #restoreKv} of a session of the same model takes
     * them up again instead of running them.
     *
     * @throws IllegalStateException when not {@link #kvSavable}
     */
    int[] saveKv(Path file) throws IOException;

    /**
     * Replaces what this session holds with what {@link #saveKv} wrote to {@code file}; returns the
     * positions restored, or -1 (and the session then holds nothing) when the file is not a complete,
     * intact save of this model's keys and values in this session's KV type and context.
     *
     * @throws IllegalStateException when not {@link #kvSavable}
     */
    int restoreKv(Path file) throws IOException;

    @Override
    void close();
}
