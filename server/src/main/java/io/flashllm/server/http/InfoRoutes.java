package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.ModelInfo;
import io.flashllm.server.metrics.ServerMetrics;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.util.function.Supplier;

/** GET /health, /metrics, /v1/models, /v1/models/{id}; POST /tokenize, /detokenize (llama.cpp shapes). */
final class InfoRoutes {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final int MAX_DETOKENIZE = 1 << 20;

    private final Vertx vertx;
    private final Supplier<ModelState> state;
    private final ServerMetrics metrics;
    private final long startedEpochSeconds = System.currentTimeMillis() / 1000;

    InfoRoutes(Vertx vertx, Supplier<ModelState> state, ServerMetrics metrics) {
        this.vertx = vertx;
        this.state = state;
        this.metrics = metrics;
    }

    void health(RoutingContext ctx) {
        ModelState s = state.get();
        ObjectNode o = F.objectNode();
        switch (s.phase()) {
            case READY -> {
                o.put("status", "ok");
                Responses.json(ctx, 200, o);
                return;
            }
            case LOADING -> o.put("status", "loading");
            case DRAINING -> o.put("status", "shutting_down");
            case FAILED -> {
                o.put("status", "error");
                o.put("message", s.failure());
            }
        }
        ctx.response().putHeader("Retry-After", "5");
        Responses.json(ctx, 503, o);
    }

    void metrics(RoutingContext ctx) {
        // Scraping walks every meter (JVM ones included); keep that off the event loop.
        vertx.executeBlocking(metrics::scrape, false)
                .onSuccess(text -> ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(text))
                .onFailure(t -> Responses.failure(ctx, t));
    }

    private ObjectNode modelJson(ModelState s) {
        ModelInfo info = s.model().info();
        ObjectNode m = F.objectNode();
        m.put("id", s.modelId());
        m.put("object", "model");
        m.put("created", startedEpochSeconds);
        m.put("owned_by", "flashllm");
        ObjectNode meta = m.putObject("meta");
        meta.put("architecture", info.architecture());
        meta.put("context_length", s.contextLength());
        meta.put("model_context_length", info.contextLength());
        meta.put("vocab_size", info.vocabSize());
        meta.put("parameters", info.parameterCount());
        return m;
    }

    /** The model's state, or null after answering that there is none (yet) to describe. */
    private ModelState loaded(RoutingContext ctx) {
        ModelState s = state.get();
        try {
            ApiServer.requireModel(s);
            return s;
        } catch (ApiError e) {
            Responses.error(ctx, e);
            return null;
        }
    }

    void models(RoutingContext ctx) {
        ModelState s = loaded(ctx);
        if (s == null) return;
        ObjectNode o = F.objectNode();
        o.put("object", "list");
        o.putArray("data").add(modelJson(s));
        Responses.json(ctx, 200, o);
    }

    void model(RoutingContext ctx) {
        ModelState s = loaded(ctx);
        if (s == null) return;
        String id = ctx.pathParam("id");
        if (!s.modelIds().contains(id)) {
            Responses.error(ctx, ApiError.modelNotFound(404, id));
            return;
        }
        Responses.json(ctx, 200, modelJson(s));
    }

    /**
     * llama.cpp's GET /props: the context per slot, the slots, the model, and the defaults of its own
     * /completion endpoint (which llama.cpp's web UI and scripts read before they send requests).
     */
    void props(RoutingContext ctx) {
        ModelState s = loaded(ctx);
        if (s == null) return;
        ObjectNode o = F.objectNode();
        ObjectNode settings = o.putObject("default_generation_settings");
        settings.put("n_ctx", s.contextLength());
        settings.putObject("params").put("n_predict", -1).put("temperature", 0.8).put("top_k", 40).put("top_p", 0.95)
                .put("min_p", 0.05).put("repeat_penalty", 1.0).put("presence_penalty", 0.0).put("frequency_penalty", 0.0)
                .put("n_probs", 0).put("stream", false).putArray("stop");
        o.put("total_slots", s.scheduler().slots());
        o.put("model_alias", s.modelId());
        o.put("model_path", s.modelId());
        o.putObject("modalities").put("vision", false).put("audio", false);
        String v = InfoRoutes.class.getPackage().getImplementationVersion();
        o.put("build_info", "flashllm " + (v == null ? "dev" : v));
        Responses.json(ctx, 200, o);
    }

    void tokenize(RoutingContext ctx) {
        ModelState s = state.get();
        JsonNode body;
        String content;
        boolean addSpecial;
        boolean withPieces;
        try {
            ApiServer.requireModel(s);
            body = Json.parseObject(BodyReader.body(ctx));
            content = Fields.string(body, "content");
            if (content == null) throw ApiError.invalid("content", "missing_field", "'content' is required");
            Boolean as = Fields.bool(body, "add_special");
            Boolean wp = Fields.bool(body, "with_pieces");
            addSpecial = as != null && as;
            withPieces = wp != null && wp;
        } catch (ApiError e) {
            Responses.error(ctx, e);
            return;
        }
        InferenceModel model = s.model();
        vertx.executeBlocking(() -> {
            int[] ids = model.tokenize(content, addSpecial);
            ObjectNode o = F.objectNode();
            ArrayNode arr = o.putArray("tokens");
            for (int id : ids) {
                if (withPieces) {
                    ObjectNode t = arr.addObject();
                    t.put("id", id);
                    t.put("piece", model.detokenize(new int[] {id}));
                } else {
                    arr.add(id);
                }
            }
            return o;
        }, false).onSuccess(o -> Responses.json(ctx, 200, o)).onFailure(t -> Responses.failure(ctx, t));
    }

    void detokenize(RoutingContext ctx) {
        ModelState s = state.get();
        int[] ids;
        try {
            ApiServer.requireModel(s);
            JsonNode body = Json.parseObject(BodyReader.body(ctx));
            JsonNode arr = Fields.get(body, "tokens");
            if (arr == null) throw ApiError.invalid("tokens", "missing_field", "'tokens' is required");
            if (!arr.isArray()) throw ApiError.invalid("tokens", "invalid_type", "'tokens' must be an array of token ids");
            if (arr.size() > MAX_DETOKENIZE) throw ApiError.invalid("tokens", "'tokens' is too long");
            int vocab = s.model().info().vocabSize();
            ids = new int[arr.size()];
            for (int i = 0; i < ids.length; i++) {
                JsonNode t = arr.get(i);
                if (!t.isIntegralNumber() || !t.canConvertToInt() || t.intValue() < 0 || t.intValue() >= vocab) {
                    throw ApiError.invalid("tokens", "'tokens[" + i + "]' is not a token id in [0, " + vocab + ")");
                }
                ids[i] = t.intValue();
            }
        } catch (ApiError e) {
            Responses.error(ctx, e);
            return;
        }
        InferenceModel model = s.model();
        vertx.executeBlocking(() -> {
            ObjectNode o = F.objectNode();
            o.put("content", model.detokenize(ids));
            return o;
        }, false).onSuccess(o -> Responses.json(ctx, 200, o)).onFailure(t -> Responses.failure(ctx, t));
    }
}
