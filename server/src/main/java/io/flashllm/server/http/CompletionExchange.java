package io.flashllm.server.http;

import io.flashllm.engine.api.FinishReason;
import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.grammar.GrammarException;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;

/**
 * One completion request from admission to the last byte: listens to its job on the slot thread and
 * answers on the event loop, either as one JSON body or as an SSE stream.
 */
final class CompletionExchange implements JobListener {
    private static final String DONE = "data: [DONE]\n\n";
    private static final String PING = ": ping\n\n";

    private final Vertx vertx;
    private final Context context;
    private final RoutingContext rc;
    private final CompletionRequest req;
    private final Prepared prepared;
    private final OpenAiFormat format;
    private final InferenceScheduler scheduler;
    private final long pingIntervalNanos;
    private final ResponseSink sink;
    private final List<GeneratedToken> kept = new ArrayList<>();
    /** With tools: streamed words stop where a call opens; the call goes out whole at the end. */
    private final HeldBack held;
    private InferenceJob job;
    private long pingTimer = -1;
    private int textOffset;

    CompletionExchange(Vertx vertx, RoutingContext rc, CompletionRequest req, Prepared prepared, OpenAiFormat format,
                       InferenceScheduler scheduler, long pingIntervalMs, long slowReaderTimeoutMs, int writeQueueBytes) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.rc = rc;
        this.req = req;
        this.prepared = prepared;
        this.format = format;
        this.scheduler = scheduler;
        this.pingIntervalNanos = pingIntervalMs * 1_000_000L;
        HttpServerResponse resp = rc.response();
        resp.setWriteQueueMaxSize(writeQueueBytes);
        this.sink = new ResponseSink(context, resp, slowReaderTimeoutMs);
        // Set before the job is submitted: the slot thread owns it from then on.
        this.textOffset = prepared.echoText() == null ? 0 : prepared.echoText().length();
        this.held = req.tools() != null && req.stream() ? new HeldBack(ToolCalls.OPEN) : null;
    }

    /** Event loop: queues the job; false (and nothing written) when the queue is full. */
    boolean admit(long arrivalNanos) {
        job = new InferenceJob(prepared.promptTokens(), prepared.params(), this, arrivalNanos);
        HttpServerResponse resp = rc.response();
        if (!scheduler.submit(job)) return false;
        resp.closeHandler(v -> clientGone());
        if (resp.closed()) {
            clientGone();
            return true;
        }
        if (req.stream()) beginStream(resp);
        return true;
    }

    private void beginStream(HttpServerResponse resp) {
        resp.setStatusCode(200)
                .putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache")
                .putHeader("X-Accel-Buffering", "no")
                .setChunked(true);
        resp.writeHead();
        if (req.chat()) sink.writeNow(event(Json.write(format.roleChunk())));
        if (prepared.echoText() != null && !prepared.echoText().isEmpty()) {
            sink.writeNow(event(Json.write(format.textChunk(prepared.echoText(), null, 0))));
        }
        // Keeps proxies and clients from timing out while the request waits for a slot or its prompt runs.
        pingTimer = vertx.setPeriodic(Math.max(1, pingIntervalNanos / 1_000_000L), id -> {
            if (sink.nanosSinceLastWrite() >= pingIntervalNanos) sink.writeNow(PING);
        });
    }

    private static String event(String json) {
        return "data: " + json + "\n\n";
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

    /** Shutdown: end this request now with an error. */
    void cancelForShutdown() {
        scheduler.cancel(job, CancelReason.SHUTDOWN);
    }

    @Override
    public void onPromptProgress(int done, int total) {
        if (req.stream() && sink.nanosSinceLastWrite() >= pingIntervalNanos && !sink.send(PING)) {
            scheduler.cancel(job, CancelReason.SLOW_READER);
        }
    }

    @Override
    public boolean onToken(GeneratedToken token) {
        if (!req.stream()) {
            if (req.logprobs()) kept.add(token);
            return true;
        }
        String text = token.text() == null ? "" : token.text();
        if (held != null) {
            text = held.push(text);
            if (text.isEmpty()) return true;
        }
        if (text.isEmpty() && !req.logprobs()) return true;
        String chunk = event(Json.write(format.textChunk(text, token, textOffset)));
        textOffset += text.length();
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
        String body;
        if (req.stream()) {
            StringBuilder b = new StringBuilder();
            ToolCalls.Answer calls = held != null ? format.toolCalls(result) : null;
            if (calls != null) {
                b.append(event(Json.write(format.toolCallsChunk(calls.calls()))));
                b.append(event(Json.write(format.finishChunk("tool_calls"))));
            } else {
                String rest = held != null ? held.rest() : "";
                if (!rest.isEmpty()) b.append(event(Json.write(format.textChunk(rest, null, textOffset))));
                b.append(event(Json.write(format.finishChunk(result.finishReason()))));
            }
            if (req.includeUsage()) {
                b.append(event(Json.write(format.usageChunk(result))));
            }
            b.append(DONE);
            body = b.toString();
        } else {
            body = Json.write(format.full(result, prepared.echoText(), kept));
        }
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
