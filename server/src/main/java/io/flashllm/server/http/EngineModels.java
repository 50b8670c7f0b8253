package io.flashllm.server.http;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthSpec;
import io.flashllm.server.config.ConfigException;
import io.flashllm.server.config.ServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loads the configured model through the engine; with no model configured, the built-in demo model. */
final class EngineModels {
    /**
     * Same file and place as the CLI's demo command (io.flashllm.server.cli.DemoModel, package-private),
     * so `flashllm demo` and `flashllm serve` share one synthesized file.
     */
    static final String DEMO_FILE_NAME = "flashllm-demo-v1-llama-q8_0.gguf";

    private EngineModels() {}

    static InferenceModel load(ServerConfig config) throws IOException {
        Path path;
        if (config.model() == null) {
            path = demoModel();
        } else {
            path = Path.of(config.model());
            if (!Files.exists(path)) throw new ConfigException("no such model file or directory: " + path);
        }
        // Cap the engine's context at what the slots will use; 0 keeps the model's own.
        return ModelLoader.load(path, new LoadOptions(config.effectiveThreads(), config.ctx(), null));
    }

    /** $FLASHLLM_HOME (or ~/.cache/flashllm)/demo/..., synthesized on first use. */
    static Path demoModel() throws IOException {
        String home = System.getProperty("flashllm.home");
        if (home == null || home.isBlank()) home = System.getenv("FLASHLLM_HOME");
        Path base = home != null && !home.isBlank() ? Path.of(home) : Path.of(System.getProperty("user.home"), ".cache", "flashllm");
        Path file = base.resolve("demo").resolve(DEMO_FILE_NAME);
        System.err.println("flashllm: no --model given; serving the built-in demo model (random weights, meaningless text)");
        if (!Files.exists(file)) {
            Files.createDirectories(file.getParent());
            System.err.println("flashllm: synthesizing the demo model into " + file + " (first use)");
            Synth.synthesize(SynthSpec.demo(), file);
        }
        return file;
    }
}
