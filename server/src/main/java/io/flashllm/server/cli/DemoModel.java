package io.flashllm.server.cli;

import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The built-in demo model: a small random-weight Llama synthesized on first use into
 * {@code $FLASHLLM_HOME/demo} (default {@code ~/.cache/flashllm/demo}), so the CLI works before
 * the user has downloaded anything. {@code flashllm serve} (io.flashllm.server.http) uses the same
 * file through {@link #ensureFile}.
 */
public final class DemoModel {
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

    /** Where the demo model lives: {@code <home>/demo/<FILE_NAME>}. */
    public static Path path() {
        return home().resolve("demo").resolve(FILE_NAME);
    }

    /** The demo model's path, synthesized now if it is not there yet; tells the user what it is. */
    static Path ensure(PrintWriter err) throws IOException {
        err.println("flashllm: running the built-in demo model. It has random weights, so its text is meaningless.");
        err.println("flashllm: to run a real model: flashllm generate --model path/to/model.gguf --prompt \"...\"");
        return ensureFile(err::println);
    }

    /** {@link #path()}, synthesized now if it is not there yet; {@code say} gets one line when it synthesizes. */
    public static Path ensureFile(Consumer<String> say) throws IOException {
        Path file = path();
        if (!Files.exists(file)) {
            Files.createDirectories(file.getParent());
            say.accept("flashllm: synthesizing the demo model into " + file + " (first use)");
            Synth.synthesize(SynthSpec.demo(), file);
        }
        return file;
    }
}
