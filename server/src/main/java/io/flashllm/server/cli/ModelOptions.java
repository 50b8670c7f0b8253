package io.flashllm.server.cli;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.InferenceModel;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/** How to find and load a model: shared by generate and bench. */
final class ModelOptions {
    @Option(names = {"-m", "--model"}, paramLabel = "PATH",
            description = "GGUF file, Hugging Face model directory or flash bundle directory.")
    Path model;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Compute threads (default: all cores).")
    Integer threads;

    @Option(names = "--ctx", paramLabel = "N",
            description = "Context length in tokens (default: the model's, at most " + DEFAULT_MAX_CTX + ").")
    Integer ctx;

    static final int DEFAULT_MAX_CTX = 4096;

    int threads() {
        int n = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (n < 1) throw new CliErrors.UsageException("--threads must be at least 1, got " + n);
        return n;
    }

    /** Loads {@code path} (the --model, or the demo model's path when the caller substitutes it). */
    InferenceModel load(Path path) {
        if (!Files.exists(path)) throw new CliErrors.UsageException("no such model file or directory: " + path);
        if (ctx != null && ctx < 1) throw new CliErrors.UsageException("--ctx must be at least 1, got " + ctx);
        return ModelLoader.load(path, new LoadOptions(threads(), ctx == null ? 0 : ctx, null));
    }

    /** The context to open a session with: --ctx, else the model's own capped at {@value #DEFAULT_MAX_CTX}. */
    int contextFor(InferenceModel m) {
        if (ctx != null) return ctx;
        int own = m.info().contextLength();
        return own > 0 ? Math.min(own, DEFAULT_MAX_CTX) : DEFAULT_MAX_CTX;
    }
}
