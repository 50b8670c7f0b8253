package io.flashllm.engine.generate;

import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;

/**
 * Gets a model's kernels compiled by C2 before the first request by running the model itself: a
 * full prompt batch (the prompt path's panel kernels) and a few decode tokens (the matvec kernels).
 * Until C2 has compiled them, vector code runs in the interpreter or C1, where a token takes
 * seconds. Running the real forward pass, rather than calling each kernel on dummy data, matters:
 * a warm-up that also exercised weight types the model does not use left the matvec call sites
 * megamorphic, C2 stopped inlining the row kernels into them, and decode ran 25% slower for the
 * life of the process.
 */
public final class ModelWarmup {
    /** Prompt tokens of the warm-up: one full prompt batch. */
    public static final int PROMPT_TOKENS = 64;
    /** Generated tokens of the warm-up. */
    public static final int DECODE_TOKENS = 8;

    private ModelWarmup() {}

    /** Runs one prompt batch and a few greedy tokens through {@code model}; returns milliseconds spent. */
    public static long run(InferenceModel model) {
        long t0 = System.nanoTime();
        int ctx = Math.min(model.info().contextLength(), PROMPT_TOKENS + DECODE_TOKENS + 1);
        int promptLength = Math.max(1, Math.min(PROMPT_TOKENS, ctx - DECODE_TOKENS - 1));
        int vocab = model.info().vocabSize();
        int[] prompt = new int[promptLength];
        // Tokens spread over the vocabulary (any ids are valid input; no text is needed).
        for (int i = 0; i < promptLength; i++) prompt[i] = (int) ((i * 7919L + 13) % vocab);
        try (Session s = model.openSession(ctx)) {
            s.generate(prompt, SamplingParams.greedy(Math.max(1, Math.min(DECODE_TOKENS, ctx - promptLength - 1))), t -> true);
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
