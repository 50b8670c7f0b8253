package io.flashllm.server.http;

import io.flashllm.engine.api.SamplingParams;

/** One request's generation as the scheduler sees it: prompt, sampling, listener and cancel state. */
final class InferenceJob {
    final int[] prompt;
    final SamplingParams params;
    final JobListener listener;
    /** When the HTTP request arrived (System.nanoTime), so latencies include parsing and queueing. */
    final long arrivalNanos;
    long submittedNanos;
    private volatile CancelReason cancelReason;

    InferenceJob(int[] prompt, SamplingParams params, JobListener listener, long arrivalNanos) {
        this.prompt = prompt;
        this.params = params;
        this.listener = listener;
        this.arrivalNanos = arrivalNanos;
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
