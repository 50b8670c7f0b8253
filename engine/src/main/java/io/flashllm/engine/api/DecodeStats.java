package io.flashllm.engine.api;

/**
 * What a model's concurrent sessions cost and share, read live by the server's metrics: the DRAM their
 * KV caches hold, and how many of their decode steps ran together as one batch (each weight read once
 * for all of them).
 */
public interface DecodeStats {
    /** Bytes held by the KV caches of the sessions open now. */
    long kvCacheBytesOpen();

    /** Passes that ran several sessions' decode steps together, since the model loaded. */
    long decodeBatches();

    /** Decode steps that ran in such a pass, since the model loaded. */
    long batchedDecodeSteps();
}
