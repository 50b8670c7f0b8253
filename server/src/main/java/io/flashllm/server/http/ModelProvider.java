package io.flashllm.server.http;

import io.flashllm.engine.api.InferenceModel;
import io.flashllm.server.config.ServerConfig;

/** Loads the model {@link ServeCommand} serves, given the effective configuration. */
@FunctionalInterface
public interface ModelProvider {
    InferenceModel load(ServerConfig config) throws Exception;
}
