package io.flashllm.server.cli;

import io.flashllm.engine.api.FlashStatsSource;
import io.flashllm.engine.api.InferenceModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code flashllm generate}: complete a prompt, streaming the text to standard output. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate text from a prompt, streamed to standard output; speed goes to standard error.",
                "Without --model it runs the built-in demo model (random weights, meaningless text)."})
public final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();
    @Mixin
    SamplingOptions sampling = new SamplingOptions();

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "The prompt; '-' reads it from standard input.")
    String prompt;

    @Option(names = "--chat", description = "Wrap the prompt in the model's chat template as a user message.")
    boolean chat;

    @Option(names = "--system", paramLabel = "TEXT", description = "System message for --chat.")
    String system;

    @Option(names = "--no-think", description = "With --chat, for models that think before they answer (Qwen3, QwQ,"
            + " DeepSeek R1): answer directly (gpt-oss: reason at low effort).")
    boolean noThink;

    @Option(names = "--reasoning-effort", paramLabel = "LEVEL", description = "With --chat, for gpt-oss: low, medium"
            + " (its default) or high, as its system message states it.")
    String effort;

    @Option(names = "--json", description = "Print one JSON object (prompt_tokens, tokens, text, ...) instead of streaming.")
    boolean json;

    @Option(names = "--logprobs", paramLabel = "K", defaultValue = "0",
            description = "With --json: the K most likely tokens and their log-probabilities for every generated token.")
    int logprobs;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (logprobs < 0 || logprobs > 100) throw new CliErrors.UsageException("--logprobs must be in [0, 100], got " + logprobs);
        if (system != null && !chat) throw new CliErrors.UsageException("--system needs --chat");
        if (noThink && !chat) throw new CliErrors.UsageException("--no-think needs --chat");
        if (effort != null && !chat) throw new CliErrors.UsageException("--reasoning-effort needs --chat");
        if (effort != null && !effort.equals("low") && !effort.equals("medium") && !effort.equals("high")) {
            throw new CliErrors.UsageException("--reasoning-effort must be low, medium or high, got " + effort);
        }
        if (logprobs > 0 && !json) throw new CliErrors.UsageException("--logprobs needs --json");
        var params = sampling.toParams(logprobs);
        Path path = model.model;
        String text = prompt;
        if (path == null) {
            path = DemoModel.ensure(err);
            if (text == null) text = DemoModel.DEFAULT_PROMPT;
        }
        if (text == null) throw new CliErrors.UsageException("--prompt is required (or '--prompt -' to read standard input)");
        if (text.equals("-")) text = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        long t0 = System.nanoTime();
        try (InferenceModel m = model.load(path)) {
            err.printf(java.util.Locale.ROOT, "loaded %s (%s, %,d parameters) in %.2f s%n", m.info().id(),
                    m.info().architecture(), m.info().parameterCount(), (System.nanoTime() - t0) / 1e9);
            var req = new TextGeneration.Request(text, system, chat, !noThink, effort, json, logprobs,
                    model.contextFor(m), params);
            TextGeneration.run(m, req, out, err);
            if (m instanceof FlashStatsSource s) {
                s.flashStats().ifPresent(f -> f.predictorRecall().ifPresent(r -> err.println(
                        PredictorReport.recall(r))));
            }
        }
        return 0;
    }
}
