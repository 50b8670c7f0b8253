package io.flashllm.server.http;

import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.PromptLogprobs;

/**
 * What the HTTP side hears about one inference job. All calls except {@link #onCancelled} (which may
 * also come from the thread that cancelled a queued job) arrive on the job's slot thread, in order,
 * and exactly one of onFinish (onEmbeddings for an embeddings job), onError, onCancelled ends the job.
 */
interface JobListener {
    /** A slot took the job; the prompt is about to be processed. */
    default void onStart() {}

    /** Prompt processing progress (tokens done of total). */
    default void onPromptProgress(int done, int total) {}

    /** The prompt's own log-probabilities, before any token, for a job that scores its prompt. */
    default void onPromptLogprobs(PromptLogprobs scores) {}

    /** A generated token; may block (a slow reader) and returns false to stop generating. */
    boolean onToken(GeneratedToken token);

    /** An embeddings job ended: one vector per input, pooled, not normalized. */
    default void onEmbeddings(float[][] vectors) {
        throw new IllegalStateException("not an embeddings job");
    }

    /** Generation ended (finish reason CANCELLED when a cancel stopped it between tokens). */
    void onFinish(GenerationResult result);

    /** The engine failed. */
    void onError(Throwable error);

    /** The job was cancelled before it produced a result (while queued or during the prompt). */
    void onCancelled();
}
