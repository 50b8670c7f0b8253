package io.flashllm.server.cli;

import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The built-in demo model: a small random-weight Llama synthesized on first use into
 * {@code $FLASHLLM_HOME/demo} (default {@code ~/.cache/flashllm/demo}), so the CLI works before
 * the user has downloaded anything.
 */
final class DemoModel {
    /** Bump when the demo spec changes, so an old cached file is not reused. */
    static final String FILE_NAME = "flashllm-demo-v1-llama-q8_0.gguf";
    static final String DEFAULT_PROMPT = "Once upon a time";

    private DemoModel() {}

    /** System property {@code flashllm.home}, else {@code $FLASHLLM_HOME}, else {@code ~/.cache/flashllm}. */
    static Path home() {
        String p = System.getProperty("flashllm.home");
        if (p == null || p.isBlank()) p = System.getenv("FLASHLLM_HOME");
        if (p != null && !p.isBlank()) return Path.of(p);
        return Path.of(System.getProperty("user.home"), ".cache", "flashllm");
    }

    /** The demo model's path, synthesized now if it is not there yet; tells the user what it is. */
    static Path ensure(PrintWriter err) throws IOException {
        Path file = home().resolve("demo").resolve(FILE_NAME);
        err.println("flashllm: running the built-in demo model. It has random weights, so its text is meaningless.");
        err.println("flashllm: to run a real model: flashllm generate --model path/to/model.gguf --prompt \"...\"");
        if (!Files.exists(file)) {
            Files.createDirectories(file.getParent());
            err.println("flashllm: synthesizing the demo model into " + file + " (first use)");
            Synth.synthesize(SynthSpec.demo(), file);
        }
        return file;
    }
}
