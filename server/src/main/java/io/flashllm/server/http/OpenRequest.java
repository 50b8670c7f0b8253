package io.flashllm.server.http;

/** An admitted request holding a slot or a queue place, which shutdown ends once its grace period is over. */
interface OpenRequest {
    /** End this request now with an error (503, shutting down). */
    void cancelForShutdown();
}
