package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashllm.engine.api.ModelInfo;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Ollama's model endpoints, so Ollama clients find the model: GET /api/version, /api/tags (the models
 * here), /api/ps (the models loaded) and POST /api/show (one model's details). The model is named
 * {@code <id>:latest}, as Ollama tags it.
 */
final class OllamaInfoRoutes {
    private final Supplier<ModelState> state;
    private final String loadedAt = Instant.now().toString();
    private final long modelBytes;

    /** @param modelPath the model file or bundle directory (null for the demo model), for its size */
    OllamaInfoRoutes(Supplier<ModelState> state, String modelPath) {
        this.state = state;
        this.modelBytes = bytes(modelPath);
    }

    /** A model file's bytes, or a bundle directory's in all (0 when unknown); read once, at start. */
    private static long bytes(String modelPath) {
        if (modelPath == null) return 0;
        try (var files = java.nio.file.Files.walk(java.nio.file.Path.of(modelPath))) {
            return files.filter(java.nio.file.Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
    }

    void version(RoutingContext ctx) {
        String v = OllamaInfoRoutes.class.getPackage().getImplementationVersion();
        Responses.json(ctx, 200, Json.MAPPER.createObjectNode().put("version", v == null ? "dev" : v));
    }

    void tags(RoutingContext ctx) {
        ModelState s = ready(ctx);
        if (s != null) Responses.json(ctx, 200, list(s, false));
    }

    void ps(RoutingContext ctx) {
        ModelState s = ready(ctx);
        if (s != null) Responses.json(ctx, 200, list(s, true));
    }

    void show(RoutingContext ctx) {
        ModelState s = ready(ctx);
        if (s == null) return;
        try {
            JsonNode body = Json.parseObject(BodyReader.body(ctx));
            // Older clients send "name", newer ones "model".
            if (!body.has("model") && body.has("name")) ((ObjectNode) body).set("model", body.get("name"));
            OllamaRequests.modelName(body, s.modelIds());
            ModelInfo info = s.model().info();
            ObjectNode o = Json.MAPPER.createObjectNode();
            o.put("modelfile", "");
            o.put("parameters", "");
            o.put("template", "");
            o.set("details", details(info));
            ObjectNode mi = o.putObject("model_info");
            mi.put("general.architecture", info.architecture());
            mi.put("general.parameter_count", info.parameterCount());
            mi.put(info.architecture() + ".context_length", s.contextLength());
            mi.put(info.architecture() + ".vocab_size", info.vocabSize());
            var capabilities = o.putArray("capabilities").add("completion").add("tools");
            // Clients (Open WebUI, Ollama's own) offer the think switch for models that list it.
            if (s.model().reasoning() != null) capabilities.add("thinking");
            o.put("modified_at", loadedAt);
            Responses.json(ctx, 200, o);
        } catch (ApiError e) {
            Responses.error(ctx, e);
        }
    }

    private ModelState ready(RoutingContext ctx) {
        ModelState s = state.get();
        try {
            ApiServer.requireModel(s);
            return s;
        } catch (ApiError e) {
            Responses.error(ctx, e);
            return null;
        }
    }

    private ObjectNode list(ModelState s, boolean loaded) {
        ModelInfo info = s.model().info();
        ObjectNode o = Json.MAPPER.createObjectNode();
        ObjectNode m = o.putArray("models").addObject();
        String name = s.modelId() + ":latest";
        m.put("name", name);
        m.put("model", name);
        m.put("modified_at", loadedAt);
        m.put("size", modelBytes);
        m.put("digest", digest(name + "/" + modelBytes));
        m.set("details", details(info));
        if (loaded) {
            m.put("expires_at", "2999-01-01T00:00:00Z");
            m.put("size_vram", 0);
        }
        return o;
    }

    /** Names the model and its size, not the file's content: hashing gigabytes at each listing would be slow. */
    private static String digest(String text) {
        try {
            return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static ObjectNode details(ModelInfo info) {
        ObjectNode d = Json.MAPPER.createObjectNode();
        d.put("parent_model", "");
        d.put("format", "gguf");
        d.put("family", info.architecture());
        d.putArray("families").add(info.architecture());
        d.put("parameter_size", String.format(Locale.ROOT, "%.1fB", info.parameterCount() / 1e9));
        d.put("quantization_level", info.quantization());
        return d;
    }
}
