package io.flashllm.server.http;

import io.flashllm.engine.api.FinishReason;
import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.PromptLogprobs;
import io.flashllm.engine.grammar.GrammarException;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/**
 * One completion request from admission to the last byte: listens to its job on the slot thread and
 * answers on the event loop, either as one JSON body or as a stream, in the shape its {@link AnswerWire} writes.
 */
final class CompletionExchange implements JobListener, OpenRequest {
    private final Vertx vertx;
    private final Context context;
    private final RoutingContext rc;
    private final CompletionRequest req;
    private final Prepared prepared;
    private final AnswerWire wire;
    private final InferenceScheduler scheduler;
    private final long pingIntervalNanos;
    private final ResponseSink sink;
    private InferenceJob job;
    private long pingTimer = -1;

    CompletionExchange(Vertx vertx, RoutingContext rc, CompletionRequest req, Prepared prepared, AnswerWire wire,
                       InferenceScheduler scheduler, long pingIntervalMs, long slowReaderTimeoutMs, int writeQueueBytes) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.rc = rc;
        this.req = req;
        this.prepared = prepared;
        this.wire = wire;
        this.scheduler = scheduler;
        this.pingIntervalNanos = pingIntervalMs * 1_000_000L;
        HttpServerResponse resp = rc.response();
        resp.setWriteQueueMaxSize(writeQueueBytes);
        this.sink = new ResponseSink(context, resp, slowReaderTimeoutMs);
    }

    /** Event loop: queues the job; false (and nothing written) when the queue is full. */
    boolean admit(long arrivalNanos) {
        job = new InferenceJob(prepared.promptTokens(), prepared.params(), prepared.scorePrompt(), this, arrivalNanos);
        HttpServerResponse resp = rc.response();
        // Made before the job is queued: from then on the slot's thread may be in wire.piece().
        String opening = req.stream() ? wire.opening() : "";
        if (!scheduler.submit(job)) return false;
        resp.closeHandler(v -> clientGone());
        if (resp.closed()) {
            clientGone();
            return true;
        }
        if (req.stream()) beginStream(resp, opening);
        return true;
    }

    private void beginStream(HttpServerResponse resp, String opening) {
        resp.setStatusCode(200)
                .putHeader("Content-Type", wire.streamContentType())
                .putHeader("Cache-Control", "no-cache")
                .putHeader("X-Accel-Buffering", "no")
                .setChunked(true);
        resp.writeHead();
        if (!opening.isEmpty()) sink.writeNow(opening);
        // Keeps proxies and clients from timing out while the request waits for a slot or its prompt runs.
        String ping = wire.ping();
        if (ping == null) return;
        pingTimer = vertx.setPeriodic(Math.max(1, pingIntervalNanos / 1_000_000L), id -> {
            if (sink.nanosSinceLastWrite() >= pingIntervalNanos) sink.writeNow(ping);
        });
    }

    private void clientGone() {
        // Mark the job first: a slot thread woken by markClosed must find the reason already set.
        scheduler.cancel(job, CancelReason.CLIENT_DISCONNECTED);
        sink.markClosed();
        stopPing();
    }

    private void stopPing() {
        if (pingTimer >= 0) {
            vertx.cancelTimer(pingTimer);
            pingTimer = -1;
        }
    }

    @Override
    public void cancelForShutdown() {
        scheduler.cancel(job, CancelReason.SHUTDOWN);
    }

    @Override
    public void onPromptProgress(int done, int total) {
        String ping = wire.ping();
        if (req.stream() && ping != null && sink.nanosSinceLastWrite() >= pingIntervalNanos && !sink.send(ping)) {
            scheduler.cancel(job, CancelReason.SLOW_READER);
        }
    }

    @Override
    public void onPromptLogprobs(PromptLogprobs scores) {
        wire.promptLogprobs(scores);
    }

    @Override
    public boolean onToken(GeneratedToken token) {
        String chunk = wire.piece(token);
        if (chunk == null) return true;
        if (!sink.send(chunk)) {
            if (!sink.closed()) scheduler.cancel(job, CancelReason.SLOW_READER);
            return false;
        }
        return true;
    }

    @Override
    public void onFinish(GenerationResult result) {
        if (result.finishReason() == FinishReason.CANCELLED) {
            onCancelled();
            return;
        }
        String body = req.stream() ? wire.closing(result) : wire.whole(result);
        context.runOnContext(v -> {
            stopPing();
            HttpServerResponse resp = rc.response();
            if (resp.closed() || resp.ended()) return;
            if (req.stream()) {
                sink.writeNow(body);
                resp.end();
            } else {
                resp.setStatusCode(200).putHeader("Content-Type", "application/json; charset=utf-8").end(body);
            }
        });
    }

    @Override
    public void onError(Throwable error) {
        if (error instanceof GrammarException g) {
            // The request's own grammar gave out while being followed (too ambiguous): the client's fault.
            fail(ApiError.invalid("grammar", "invalid_grammar", g.getMessage()));
            return;
        }
        fail(ApiError.internal("Generation failed: " + error.getClass().getSimpleName()
                + (error.getMessage() == null ? "" : ": " + error.getMessage())));
    }

    @Override
    public void onCancelled() {
        CancelReason reason = job.cancelReason();
        if (reason == CancelReason.SHUTDOWN) {
            fail(ApiError.unavailable("shutting_down", "The server is shutting down"));
        } else if (reason == CancelReason.SLOW_READER) {
            context.runOnContext(v -> {
                stopPing();
                // The client stopped reading: nothing more can reach it, so drop the connection.
                if (!rc.response().closed()) rc.request().connection().close();
            });
        } else {
            context.runOnContext(v -> stopPing());
        }
    }

    private void fail(ApiError e) {
        context.runOnContext(v -> {
            stopPing();
            Responses.error(rc, e);
        });
    }
}
