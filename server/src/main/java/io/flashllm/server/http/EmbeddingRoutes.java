package io.flashllm.server.http;

import io.flashllm.engine.api.Pooling;
import io.flashllm.server.config.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.util.function.Supplier;

/**
 * POST /v1/embeddings (OpenAI), /api/embed and /api/embeddings (Ollama), /embedding (llama.cpp's own). Each request's inputs run
 * on one slot, one after another, through the same layers (and flash reads) as a prompt; the pooling
 * is --pooling when set, else the one the model file declares, else the last token's.
 */
final class EmbeddingRoutes {
    private final Vertx vertx;
    private final ServerConfig config;
    private final Supplier<ModelState> state;
    private final CompletionRoutes open;

    EmbeddingRoutes(Vertx vertx, ServerConfig config, Supplier<ModelState> state, CompletionRoutes open) {
        this.vertx = vertx;
        this.config = config;
        this.state = state;
        this.open = open;
    }

    void openAi(RoutingContext ctx) {
        handle(ctx, EmbeddingRequest.Api.OPENAI);
    }

    void ollama(RoutingContext ctx) {
        handle(ctx, EmbeddingRequest.Api.OLLAMA);
    }

    void llamaCpp(RoutingContext ctx) {
        handle(ctx, EmbeddingRequest.Api.LLAMACPP);
    }

    void ollamaLegacy(RoutingContext ctx) {
        handle(ctx, EmbeddingRequest.Api.OLLAMA_LEGACY);
    }

    private void handle(RoutingContext ctx, EmbeddingRequest.Api api) {
        JsonEndpoint.serve(ctx, state.get(), (c, s, body, arrival) -> {
            String model;
            if (api == EmbeddingRequest.Api.OPENAI || api == EmbeddingRequest.Api.LLAMACPP) {
                model = Fields.string(body, "model");
                if (model != null && !s.modelIds().contains(model)) throw ApiError.modelNotFound(400, model);
                model = s.modelId();
            } else {
                model = OllamaRequests.modelName(body, s.modelIds()) + ":latest";
            }
            EmbeddingRequest req = EmbeddingRequest.parse(body, api);
            if (req.inputs().isEmpty()) {
                // Ollama's way of loading a model: no input, an empty answer.
                Responses.json(c, 200, api == EmbeddingRequest.Api.OLLAMA
                        ? EmbeddingAnswers.ollama(new float[0][], model, 0, System.nanoTime() - arrival)
                        : EmbeddingAnswers.ollamaLegacy(new float[0][]));
                return;
            }
            Pooling pooling = pooling(config, s);
            int limit = config.maxPromptTokens() > 0 ? Math.min(config.maxPromptTokens(), s.contextLength()) : s.contextLength();
            String answerModel = model;
            vertx.executeBlocking(() -> req.tokens(s.model(), limit), false)
                    .onSuccess(tokens -> start(c, req, api, answerModel, new InferenceJob.Embeddings(tokens, pooling), arrival, s))
                    .onFailure(t -> Responses.failure(c, t));
        });
    }

    /** --pooling when given, else what the model declares, else the last token's (see {@link Pooling}). */
    static Pooling pooling(ServerConfig config, ModelState s) {
        return Pooling.resolve(config.pooling(), s.model().declaredPooling());
    }

    private void start(RoutingContext ctx, EmbeddingRequest req, EmbeddingRequest.Api api, String model,
                       InferenceJob.Embeddings work, long arrival, ModelState s) {
        if (ctx.response().closed()) return;
        if (state.get().phase() != ModelState.Phase.READY) {
            Responses.error(ctx, ApiError.unavailable("shutting_down", "The server is shutting down"));
            return;
        }
        EmbeddingExchange ex = new EmbeddingExchange(vertx, ctx, req, api, model, s.scheduler());
        if (!ex.admit(work, arrival)) {
            Responses.error(ctx, ApiError.queueFull());
            return;
        }
        open.track(ctx, ex);
    }
}
