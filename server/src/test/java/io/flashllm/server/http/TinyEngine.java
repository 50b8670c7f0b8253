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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real server over the real engine for one test class: a tiny random-weight Llama ("tiny-llama": dim
 * 64, two layers, 512 tokens) written by synth into a temporary directory, loaded by ModelLoader and
 * served on loopback before the class's tests, all of it gone after them. Register it with
 * {@code @RegisterExtension static final TinyEngine tiny = new TinyEngine(modelContext, serverContext, slots);}.
 */
final class TinyEngine implements BeforeAllCallback, AfterAllCallback {
    private final int modelContext;
    private final int serverContext;
    private final int slots;
    private Path dir;
    private InferenceModel model;
    private TestServer server;

    TinyEngine(int modelContext, int serverContext, int slots) {
        this.modelContext = modelContext;
        this.serverContext = serverContext;
        this.slots = slots;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dir = Files.createTempDirectory("flashllm-tiny-engine");
        Path file = dir.resolve("tiny-llama.gguf");
        Synth.synthesize(new SynthSpec(SynthArch.LLAMA, 64, 2, 4, 2, 128, 512, SynthType.F32, SynthFormat.GGUF,
                11L, null, modelContext, "tiny"), file);
        model = ModelLoader.load(file, new LoadOptions(1, 0, null));
        server = new TestServer(model, Map.of(Setting.PARALLEL, slots, Setting.CTX, serverContext));
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        try {
            if (server != null) server.close();
        } finally {
            if (model != null) model.close();
            if (dir != null) {
                try (Stream<Path> files = Files.walk(dir)) {
                    for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
                }
            }
        }
    }

    InferenceModel model() {
        return model;
    }

    TestServer server() {
        return server;
    }
}
