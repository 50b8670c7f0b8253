package io.flashllm.server.http;

import io.flashllm.engine.api.Pooling;
import io.flashllm.engine.api.SamplingParams;

/**
 * One request's work as the scheduler sees it: a generation (prompt, sampling) or embeddings (inputs,
 * pooling), its listener and cancel state.
 */
final class InferenceJob {
    /** The prompt; for embeddings the last input, which the slot's cache holds afterwards. */
    final int[] prompt;
    final SamplingParams params;
    /** Null for a generation. */
    final Embeddings embeddings;
    /** A generation that first scores its prompt, showing this many alternatives a token; -1: it does not. */
    final int scorePrompt;
    final JobListener listener;
    /** When the HTTP request arrived (System.nanoTime), so latencies include parsing and queueing. */
    final long arrivalNanos;
    long submittedNanos;
    private volatile CancelReason cancelReason;

    InferenceJob(int[] prompt, SamplingParams params, JobListener listener, long arrivalNanos) {
        this(prompt, params, -1, listener, arrivalNanos);
    }

    InferenceJob(int[] prompt, SamplingParams params, int scorePrompt, JobListener listener, long arrivalNanos) {
        this.prompt = prompt;
        this.params = params;
        this.scorePrompt = scorePrompt;
        this.embeddings = null;
        this.listener = listener;
        this.arrivalNanos = arrivalNanos;
    }

    /** Embeddings of each of {@code inputs} (at least one), one after another on one slot. */
    InferenceJob(Embeddings embeddings, JobListener listener, long arrivalNanos) {
        this.prompt = embeddings.inputs()[embeddings.inputs().length - 1];
        this.params = null;
        this.scorePrompt = -1;
        this.embeddings = embeddings;
        this.listener = listener;
        this.arrivalNanos = arrivalNanos;
    }

    /** The token ids of each text to embed, and how its hidden states become one vector. */
    record Embeddings(int[][] inputs, Pooling pooling) {
        int tokenCount() {
            int n = 0;
            for (int[] in : inputs) n += in.length;
            return n;
        }
    }

    boolean cancelled() {
        return cancelReason != null;
    }

    CancelReason cancelReason() {
        return cancelReason;
    }

    /** Marks the job cancelled (first reason wins); the scheduler acts on it at the next token. */
    boolean markCancelled(CancelReason reason) {
        synchronized (this) {
            if (cancelReason != null) return false;
            cancelReason = reason;
            return true;
        }
    }
}
