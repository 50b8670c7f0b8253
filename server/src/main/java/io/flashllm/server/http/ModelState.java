package io.flashllm.server.http;

import io.flashllm.engine.api.InferenceModel;
import java.util.List;

/** What the server is serving right now; replaced as a whole when the model finishes loading. */
record ModelState(Phase phase, InferenceModel model, InferenceScheduler scheduler, String modelId,
                  int contextLength, String failure) {
    enum Phase { LOADING, READY, FAILED, DRAINING }

    static ModelState loading() {
        return new ModelState(Phase.LOADING, null, null, null, 0, null);
    }

    /** Names a request's "model" may use: the alias shown to clients and the model's own id. */
    List<String> modelIds() {
        String own = model.info().id();
        return own.equals(modelId) ? List.of(modelId) : List.of(modelId, own);
    }

    ModelState with(Phase p) {
        return new ModelState(p, model, scheduler, modelId, contextLength, failure);
    }
}
