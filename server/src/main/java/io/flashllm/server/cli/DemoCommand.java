package io.flashllm.server.cli;

import io.flashllm.engine.api.InferenceModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code flashllm demo}: generate with the built-in random-weight model, no download needed. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run the built-in demo model (a small random-weight Llama, synthesized on first use).",
                "Its text is meaningless; it shows that flashllm runs on this machine."})
public final class DemoCommand implements Callable<Integer> {
    @Mixin
    SamplingOptions sampling = new SamplingOptions();

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", defaultValue = DemoModel.DEFAULT_PROMPT,
            description = "The prompt (default: ${DEFAULT-VALUE}).")
    String prompt;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Compute threads (default: all cores).")
    Integer threads;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        var params = sampling.toParams(0);
        Path path = DemoModel.ensure(err);
        ModelOptions mo = new ModelOptions();
        mo.threads = threads;
        try (InferenceModel m = mo.load(path)) {
            var req = new TextGeneration.Request(prompt, null, false, true, null, false, 0, mo.contextFor(m), params);
            TextGeneration.run(m, req, out, err);
        }
        return 0;
    }
}
