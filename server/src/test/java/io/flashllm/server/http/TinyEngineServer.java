package io.flashllm.server.http;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthArch;
import io.flashllm.engine.synth.SynthFormat;
import io.flashllm.engine.synth.SynthSpec;
import io.flashllm.engine.synth.SynthType;
import io.flashllm.server.config.Setting;
import java.nio.file.Path;
import java.util.Map;

/**
 * A real server over the real engine for tests: a tiny random-weight Llama ("tiny-llama": dim 64, two
 * layers, 512 tokens) written by synth into {@code dir}, loaded by ModelLoader, served on loopback.
 */
record TinyEngineServer(InferenceModel model, TestServer server) implements AutoCloseable {
    static TinyEngineServer start(Path dir, int modelContext, int serverContext, int slots) throws Exception {
        Path file = dir.resolve("tiny-llama.gguf");
        Synth.synthesize(new SynthSpec(SynthArch.LLAMA, 64, 2, 4, 2, 128, 512, SynthType.F32, SynthFormat.GGUF,
                11L, null, modelContext, "tiny"), file);
        InferenceModel model = ModelLoader.load(file, new LoadOptions(1, 0, null));
        return new TinyEngineServer(model, new TestServer(model, Map.of(Setting.PARALLEL, slots, Setting.CTX, serverContext)));
    }

    @Override
    public void close() {
        server.close();
        model.close();
    }
}
