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
     * Runs {@code prompt} from position 0 (whatever the cache held) and scores each of its tokens against
     * the model's prediction from the tokens before it, with the {@code topN} likeliest alternatives at
     * each place. The KV cache holds the prompt afterwards, so a {@link #generate} of the same prompt runs
     * only its last token again. {@code listener} hears prompt progress (and may throw from it to stop).
     *
     * @throws IllegalArgumentException when the prompt is empty, longer than the context, or holds a token
     *         outside the vocabulary
     */
    PromptLogprobs scorePrompt(int[] prompt, int topN, GenerationListener listener);

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
