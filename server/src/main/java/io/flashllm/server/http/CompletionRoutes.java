package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.server.config.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * POST /v1/completions, /v1/chat/completions and /v1/responses (OpenAI), /completion (llama.cpp's own), /api/generate and
 * /api/chat (Ollama).
 */
final class CompletionRoutes {
    private final Vertx vertx;
    private final ServerConfig config;
    private final Supplier<ModelState> state;
    /** Requests holding a slot or a queue place (completions and embeddings), so shutdown can end them. */
    private final Set<OpenRequest> live = ConcurrentHashMap.newKeySet();

    CompletionRoutes(Vertx vertx, ServerConfig config, Supplier<ModelState> state) {
        this.vertx = vertx;
        this.config = config;
        this.state = state;
    }

    void completions(RoutingContext ctx) {
        JsonEndpoint.serve(ctx, state.get(), (c, s, body, arrival) -> openAi(c, s, body, arrival, false));
    }

    void chat(RoutingContext ctx) {
        JsonEndpoint.serve(ctx, state.get(), (c, s, body, arrival) -> openAi(c, s, body, arrival, true));
    }

    private void openAi(RoutingContext ctx, ModelState s, JsonNode body, long arrival, boolean chat) {
        CompletionRequest req = RequestParser.parse(body, chat, s.modelIds());
        submit(ctx, s, req, arrival, p -> {
            String id = RandomIds.next(req.chat() ? "chatcmpl-" : "cmpl-");
            OpenAiFormat format = new OpenAiFormat(req.chat(), id, Instant.now().getEpochSecond(), s.modelId(),
                    req.logprobs(), req.includeUsage(), tok -> s.model().detokenize(new int[] {tok}), p.calls(),
                    p.thinking());
            return new OpenAiWire(req, format, p.echoText(), p.thinking(), p.calls());
        });
    }

    /** OpenAI's POST /v1/responses: a chat under the Responses API's names and answer shapes. */
    void responses(RoutingContext ctx) {
        JsonEndpoint.serve(ctx, state.get(), (c, s, body, arrival) -> {
            ResponsesRequests.Parsed parsed = ResponsesRequests.parse(body, s.modelIds());
            CompletionRequest req = parsed.request();
            submit(c, s, req, arrival, p -> new ResponsesWire(req, RandomIds.next("resp_"), Instant.now().getEpochSecond(),
                    s.modelId(), parsed.echo(), p.thinking(), p.calls(), tok -> s.model().detokenize(new int[] {tok})));
        });
    }

    /**
     * llama.cpp's POST /apply-template: the prompt a chat request's messages (and tools) make under the model's chat
     * format, {@code {"prompt": ...}}, nothing generated; for seeing what the model is shown.
     */
    void applyTemplate(RoutingContext ctx) {
        JsonEndpoint.serve(ctx, state.get(), (c, s, body, arrival) -> {
            CompletionRequest req = RequestParser.parse(body, true, s.modelIds());
            var defaults = new PromptPreparer.ThinkingDefaults(config.reasoningByDefault(), config.reasoningSeparate());
            vertx.executeBlocking(() -> PromptPreparer.chatPrompt(req, s.model(), PromptPreparer.thinks(req, defaults)), false)
                    .onSuccess(p -> Responses.json(c, 200, Json.MAPPER.createObjectNode().put("prompt", p)))
                    .onFailure(t -> Responses.failure(c, t));
        });
    }

    /** llama.cpp's own POST /completion (and /completions). */
    void llamaCpp(RoutingContext ctx) {
        JsonEndpoint.serve(ctx, state.get(), (c, s, body, arrival) -> {
            LlamaCppRequests.Parsed parsed = LlamaCppRequests.parse(body);
            CompletionRequest req = parsed.request();
            submit(c, s, req, arrival, p -> new LlamaCppWire(req, parsed.returnTokens(), s.modelId(), s.contextLength(),
                    s.model()::detokenize));
        });
    }

    void ollamaGenerate(RoutingContext ctx) {
        JsonEndpoint.serve(ctx, state.get(), (c, s, body, arrival) -> ollama(c, s, body, arrival, false));
    }

    void ollamaChat(RoutingContext ctx) {
        JsonEndpoint.serve(ctx, state.get(), (c, s, body, arrival) -> ollama(c, s, body, arrival, true));
    }

    private void ollama(RoutingContext ctx, ModelState s, JsonNode body, long arrival, boolean chat) {
        String model = OllamaRequests.modelName(body, s.modelIds()) + ":latest";
        if (OllamaRequests.onlyLoads(body, chat)) {
            Responses.json(ctx, 200, OllamaWire.loaded(model, chat));
            return;
        }
        CompletionRequest req = OllamaRequests.parse(body, chat);
        submit(ctx, s, req, arrival, p -> new OllamaWire(req, chat, model, arrival, p.thinking(), p.calls()));
    }

    /** Prepares the prompt off the event loop, then queues the request with the wire its API writes. */
    private void submit(RoutingContext ctx, ModelState s, CompletionRequest req, long arrival,
                        java.util.function.Function<Prepared, AnswerWire> wire) {
        var thinking = new PromptPreparer.ThinkingDefaults(config.reasoningByDefault(), config.reasoningSeparate());
        vertx.executeBlocking(() -> PromptPreparer.prepare(req, s.model(), s.contextLength(), config.maxPromptTokens(),
                        thinking), false)
                .onSuccess(p -> start(ctx, req, p, arrival, wire.apply(p), s))
                .onFailure(t -> Responses.failure(ctx, t));
    }

    private void start(RoutingContext ctx, CompletionRequest req, Prepared p, long arrival, AnswerWire wire,
                       ModelState s) {
        if (ctx.response().closed()) return;
        ModelState now = state.get();
        if (now.phase() != ModelState.Phase.READY) {
            Responses.error(ctx, ApiError.unavailable("shutting_down", "The server is shutting down"));
            return;
        }
        CompletionExchange ex = new CompletionExchange(vertx, ctx, req, p, wire, s.scheduler(),
                config.pingIntervalMs(), config.slowReaderTimeoutMs(), config.writeQueueBytes());
        if (!ex.admit(arrival)) {
            Responses.error(ctx, ApiError.queueFull());
            return;
        }
        track(ctx, ex);
    }

    /** Holds {@code r} among the open requests until its response ends. */
    void track(RoutingContext ctx, OpenRequest r) {
        live.add(r);
        ctx.addEndHandler(ar -> live.remove(r));
    }

    /** Shutdown, after the grace period: end every request still open with an error. */
    void cancelAll() {
        for (OpenRequest r : live) r.cancelForShutdown();
    }

    int open() {
        return live.size();
    }
}
