package io.flashllm.server.http;

import io.flashllm.engine.api.InferenceModel;
import io.flashllm.server.config.ConfigException;
import io.flashllm.server.config.ServerConfig;

/** Loads the configured model through the engine. */
final class EngineModels {
    private EngineModels() {}

    static InferenceModel load(ServerConfig config) {
        // Wired to io.flashllm.engine.ModelLoader once the engine's loader is merged.
        throw new ConfigException("this build has no model loader yet (model: " + config.model() + ")");
    }
}
