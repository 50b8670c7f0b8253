package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.server.config.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/** POST /v1/completions and /v1/chat/completions. */
final class CompletionRoutes {
    private final Vertx vertx;
    private final ServerConfig config;
    private final Supplier<ModelState> state;
    /** Requests holding a slot or a queue place, so shutdown can end them. */
    private final Set<CompletionExchange> live = ConcurrentHashMap.newKeySet();

    CompletionRoutes(Vertx vertx, ServerConfig config, Supplier<ModelState> state) {
        this.vertx = vertx;
        this.config = config;
        this.state = state;
    }

    void completions(RoutingContext ctx) {
        handle(ctx, false);
    }

    void chat(RoutingContext ctx) {
        handle(ctx, true);
    }

    private void handle(RoutingContext ctx, boolean chat) {
        long arrival = ctx.get(ApiServer.ARRIVAL_KEY);
        ModelState s = state.get();
        try {
            ApiServer.requireReady(s);
            JsonNode body = Json.parseObject(BodyReader.body(ctx));
            CompletionRequest req = RequestParser.parse(body, chat, s.modelIds());
            vertx.executeBlocking(() -> PromptPreparer.prepare(req, s.model(), s.contextLength(), config.maxPromptTokens()), false)
                    .onSuccess(p -> start(ctx, s, req, p, arrival))
                    .onFailure(t -> Responses.failure(ctx, t));
        } catch (ApiError e) {
            Responses.error(ctx, e);
        }
    }

    private void start(RoutingContext ctx, ModelState s, CompletionRequest req, Prepared p, long arrival) {
        if (ctx.response().closed()) return;
        ModelState now = state.get();
        if (now.phase() != ModelState.Phase.READY) {
            Responses.error(ctx, ApiError.unavailable("shutting_down", "The server is shutting down"));
            return;
        }
        String id = (req.chat() ? "chatcmpl-" : "cmpl-") + HexFormat.of().formatHex(randomBytes());
        OpenAiFormat format = new OpenAiFormat(req.chat(), id, Instant.now().getEpochSecond(), s.modelId(),
                req.logprobs(), req.includeUsage(), tok -> s.model().detokenize(new int[] {tok}), req.tools() != null);
        CompletionExchange ex = new CompletionExchange(vertx, ctx, req, p, new OpenAiWire(req, format, p.echoText()), s.scheduler(),
                config.pingIntervalMs(), config.slowReaderTimeoutMs(), config.writeQueueBytes());
        if (!ex.admit(arrival)) {
            Responses.error(ctx, ApiError.queueFull());
            return;
        }
        live.add(ex);
        ctx.addEndHandler(ar -> live.remove(ex));
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[12];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }

    /** Shutdown, after the grace period: end every request still open with an error. */
    void cancelAll() {
        for (CompletionExchange ex : live) ex.cancelForShutdown();
    }

    int open() {
        return live.size();
    }
}
