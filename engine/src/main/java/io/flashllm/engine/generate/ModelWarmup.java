package io.flashllm.engine.generate;

import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;
import io.flashllm.kernels.JitQuiet;

/**
 * Gets a model's kernels compiled by C2 before the first request by running the model itself:
 * prompts that take each prompt kernel, and a few decode tokens (the matvec kernels).
 * Until C2 has compiled them, vector code runs in the interpreter or C1, where a token takes
 * seconds. Running the real forward pass, rather than calling each kernel on dummy data, matters:
 * a warm-up that also exercised weight types the model does not use left the matvec call sites
 * megamorphic, C2 stopped inlining the row kernels into them, and decode ran 25% slower for the
 * life of the process.
 */
public final class ModelWarmup {
    /**
     * Prompt lengths of the warm-up: 48 tokens take both panel kernels (32 and 16 tokens wide), 5
     * the small-batch tile of short prompts (a chat turn).
     */
    static final int[] PROMPTS = {48, 5};
    /** Generated tokens after each prompt. */
    static final int DECODE_TOKENS = 4;
    /** Then tokens until the JIT has finished no compile for this long, or for at most {@link #MAX_SETTLE_MS}. */
    static final long QUIET_MS = 300, MAX_SETTLE_MS = 15_000;

    private ModelWarmup() {}

    /** Runs each warm-up prompt and a few greedy tokens through {@code model}; returns milliseconds spent. */
    public static long run(InferenceModel model) {
        long t0 = System.nanoTime();
        int vocab = model.info().vocabSize();
        for (int length : PROMPTS) {
            int ctx = Math.min(model.info().contextLength(), length + DECODE_TOKENS + 1);
            int promptLength = Math.max(1, Math.min(length, ctx - DECODE_TOKENS - 1));
            int[] prompt = new int[promptLength];
            // Tokens spread over the vocabulary (any ids are valid input; no text is needed).
            for (int i = 0; i < promptLength; i++) prompt[i] = (int) ((i * 7919L + 13) % vocab);
            try (Session s = model.openSession(ctx)) {
                s.generate(prompt, SamplingParams.greedy(Math.max(1, Math.min(DECODE_TOKENS, ctx - promptLength - 1))), t -> true);
            }
        }
        // Then decode on until C2 has been idle for a while: on two cores the run above leaves
        // compiles and recompiles queued, and a kernel waiting for its recompile runs interpreted,
        // 100x slower, in the first requests (or a benchmark's measured run).
        JitQuiet jit = new JitQuiet(QUIET_MS, MAX_SETTLE_MS);
        int ctx = Math.min(model.info().contextLength(), 64);
        for (int round = 0; ctx >= 3 && !jit.settled(); round++) {
            try (Session s = model.openSession(ctx)) {
                s.generate(new int[] {(int) ((round * 7919L + 13) % vocab)}, SamplingParams.greedy(ctx - 2),
                        t -> !jit.settled());
            }
        }
        // The warm-up's tokens are not traffic: a flash bundle's hot region is chosen from what follows.
        if (model instanceof LoadedModel loaded) loaded.languageModel().ffn().forgetActivity();
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
