package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.generate.EmbeddingVectors;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/**
 * One embeddings request from admission to its answer: its job runs on a slot like a prompt, and the
 * vectors go back as one JSON body in the shape of the API it came through. A client that hangs up
 * cancels the job at its next prompt chunk.
 */
final class EmbeddingExchange implements JobListener, OpenRequest {
    private final Context context;
    private final RoutingContext rc;
    private final EmbeddingRequest req;
    private final EmbeddingRequest.Api api;
    private final String model;
    private final InferenceScheduler scheduler;
    private InferenceJob job;

    EmbeddingExchange(Vertx vertx, RoutingContext rc, EmbeddingRequest req, EmbeddingRequest.Api api, String model,
                      InferenceScheduler scheduler) {
        this.context = vertx.getOrCreateContext();
        this.rc = rc;
        this.req = req;
        this.api = api;
        this.model = model;
        this.scheduler = scheduler;
    }

    /** Event loop: queues the job; false (and nothing written) when the queue is full. */
    boolean admit(InferenceJob.Embeddings work, long arrivalNanos) {
        job = new InferenceJob(work, this, arrivalNanos);
        if (!scheduler.submit(job)) return false;
        HttpServerResponse resp = rc.response();
        resp.closeHandler(v -> scheduler.cancel(job, CancelReason.CLIENT_DISCONNECTED));
        if (resp.closed()) scheduler.cancel(job, CancelReason.CLIENT_DISCONNECTED);
        return true;
    }

    @Override
    public void cancelForShutdown() {
        scheduler.cancel(job, CancelReason.SHUTDOWN);
    }

    /** Slot thread: the answer is written here, off the event loop (thousands of vectors are megabytes of JSON). */
    @Override
    public void onEmbeddings(float[][] pooled) {
        String body;
        try {
            float[][] vectors = new float[pooled.length][];
            for (int i = 0; i < pooled.length; i++) vectors[i] = EmbeddingVectors.finish(pooled[i], req.dimensions(), req.normalize());
            int tokens = job.embeddings.tokenCount();
            JsonNode answer = switch (api) {
                case OPENAI -> EmbeddingAnswers.openAi(vectors, req.base64(), model, tokens);
                case OLLAMA -> EmbeddingAnswers.ollama(vectors, model, tokens, System.nanoTime() - job.arrivalNanos);
                case OLLAMA_LEGACY -> EmbeddingAnswers.ollamaLegacy(vectors);
                case LLAMACPP -> EmbeddingAnswers.llamaCpp(vectors);
            };
            body = Json.write(answer);
        } catch (IllegalStateException e) {
            onError(e);
            return;
        }
        context.runOnContext(v -> {
            HttpServerResponse resp = rc.response();
            if (resp.closed() || resp.ended()) return;
            resp.setStatusCode(200).putHeader("Content-Type", "application/json; charset=utf-8").end(body);
        });
    }

    @Override
    public boolean onToken(GeneratedToken token) {
        throw new IllegalStateException("an embeddings job generates no tokens");
    }

    @Override
    public void onFinish(GenerationResult result) {
        throw new IllegalStateException("an embeddings job ends with onEmbeddings");
    }

    @Override
    public void onError(Throwable error) {
        fail(ApiError.internal("Embedding failed: " + error.getClass().getSimpleName()
                + (error.getMessage() == null ? "" : ": " + error.getMessage())));
    }

    @Override
    public void onCancelled() {
        if (job.cancelReason() == CancelReason.SHUTDOWN) fail(ApiError.unavailable("shutting_down", "The server is shutting down"));
    }

    private void fail(ApiError e) {
        context.runOnContext(v -> Responses.error(rc, e));
    }
}
