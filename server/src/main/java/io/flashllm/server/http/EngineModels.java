package io.flashllm.server.http;

import io.flashllm.engine.LoadOptions;
import io.flashllm.flashstore.bundle.BundleOpenOptions;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.KernelWarmup;
import io.flashllm.engine.generate.LoadedModel;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.server.cli.DemoModel;
import io.flashllm.server.cli.FlashBundleOptions;
import io.flashllm.server.config.ConfigException;
import io.flashllm.server.config.ServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

/** Loads the configured model through the engine; with no model configured, the built-in demo model. */
final class EngineModels {
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
        InferenceModel model = ModelLoader.load(path, loadOptions(config));
        if (config.warmup()) {
            // Until C2 compiles the vector kernels the first tokens take seconds; pay that before /health says ok.
            long ms = KernelWarmup.run(weightTypes(model));
            System.err.println("flashllm: kernels warmed up in " + ms + " ms");
        }
        return model;
    }

    /** Types of the model's weights (plus F16 for the KV cache and Q8_0 for bundles' down columns); every type when unknown. */
    static Set<GgmlType> weightTypes(InferenceModel model) {
        if (!(model instanceof LoadedModel loaded)) return EnumSet.allOf(GgmlType.class);
        Set<GgmlType> types = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.Q8_0);
        types.addAll(loaded.languageModel().weights().types());
        return types;
    }

    static LoadOptions loadOptions(ServerConfig config) {
        BundleOpenOptions bundle;
        try {
            bundle = FlashBundleOptions.of(config.memoryBudget(), config.window(), config.selector(), config.directIo(),
                    config.predictorSampleRate());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage(), e);
        }
        return new LoadOptions(config.effectiveThreads(), config.ctx(), null, null, null, bundle, config.backend());
    }

    /** The CLI's demo model ({@link DemoModel}), so `flashllm demo` and `flashllm serve` share one synthesized file. */
    static Path demoModel() throws IOException {
        System.err.println("flashllm: no --model given; serving the built-in demo model (random weights, meaningless text)");
        return DemoModel.ensureFile(System.err::println);
    }
}
