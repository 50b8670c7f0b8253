package io.flashllm.server.cli;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.FlashStatsSource;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.generate.LoadedModel;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.model.Transformer;
import io.flashllm.predictor.eval.Perplexity;
import io.flashllm.predictor.eval.TokenAgreement;
import io.flashllm.predictor.eval.TokenModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;

/**
 * {@code flashllm perplexity}: how well the model (with the chosen neuron selector) predicts a
 * text, and optionally how often its greedy choices agree with the exact model's, the two
 * numbers that say what an inexact selector such as {@code predicted} costs.
 */
@Command(name = "perplexity", mixinStandardHelpOptions = true,
        description = {"Perplexity of a text under the model (windows of --ctx tokens, each from an empty cache).",
                "With --agreement N: greedy agreement over N tokens between this selector and the exact model."})
public final class PerplexityCommand implements java.util.concurrent.Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Option(names = "--text", paramLabel = "FILE", required = true, description = "The text (UTF-8).")
    Path text;

    @Option(names = "--max-tokens", paramLabel = "N", description = "Score only the first N tokens of the text.")
    Integer maxTokens;

    @Option(names = "--agreement", paramLabel = "N", defaultValue = "0",
            description = "Also compare greedy choices with the exact model (selector auto) over N tokens, teacher-forced,"
                    + " after a prompt of the text's first tokens.")
    int agreement;

    @Spec
    CommandSpec spec;

    /** Prompt length for --agreement: enough context to leave the start-of-text regime. */
    static final int AGREEMENT_PROMPT = 16;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Path path = model.model;
        if (path == null) throw new CliErrors.UsageException("--model is required");
        if (maxTokens != null && maxTokens < 2) throw new CliErrors.UsageException("--max-tokens must be at least 2, got " + maxTokens);
        if (agreement < 0) throw new CliErrors.UsageException("--agreement must not be negative, got " + agreement);
        if (!Files.isRegularFile(text)) throw new CliErrors.UsageException("no such text file: " + text);
        String body = Files.readString(text, StandardCharsets.UTF_8);
        int[] tokens;
        try (InferenceModel m = model.load(path)) {
            tokens = m.tokenize(body, true);
            if (maxTokens != null && tokens.length > maxTokens) tokens = Arrays.copyOf(tokens, maxTokens);
            if (tokens.length < 2) throw new CliErrors.UsageException(text + " holds fewer than 2 tokens");
            int window = Math.max(2, model.contextFor(m));
            LanguageModel lm = languageModel(m);
            List<Transformer> open = new ArrayList<>();
            long t0 = System.nanoTime();
            Perplexity.Result r;
            try {
                r = Perplexity.compute(sessions(lm, open), tokens, window);
            } finally {
                open.forEach(Transformer::close);
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            out.printf(Locale.ROOT, "perplexity %.4f over %d tokens (mean NLL %.5f nats, window %d, %.1f tok/s)%n",
                    r.perplexity(), r.tokens(), r.meanNll(), window, r.tokens() / Math.max(secs, 1e-9));
            if (m instanceof FlashStatsSource s) {
                s.flashStats().ifPresent(f -> f.predictorRecall().ifPresent(rc -> out.println(
                        PredictorReport.recall(rc))));
            }
        }
        if (agreement > 0) agreement(path, tokens, out);
        out.flush();
        return 0;
    }

    /**
     * Both models are loaded afresh so their neuron caches see the same token history: with equal
     * selectors the two runs are then bit-identical, and any difference is the selector's. (After
     * different histories the cached rows sit in a different order, the FFN sums in a different
     * order, and a near-tie between two logits can flip on rounding alone.)
     */
    private void agreement(Path path, int[] tokens, PrintWriter out) {
        LoadOptions chosen = model.loadOptions();
        LoadOptions exact = chosen.withBundle(chosen.bundle().withSelector("auto"));
        int prompt = Math.min(AGREEMENT_PROMPT, tokens.length);
        try (LanguageModel reference = ModelLoader.loadLanguageModel(path, exact);
             LanguageModel candidate = ModelLoader.loadLanguageModel(path, chosen)) {
            int window = model.ctx != null ? Math.min(model.ctx, reference.config().contextLength())
                    : Math.min(reference.config().contextLength(), ContextLength.DEFAULT_MAX);
            int steps = Math.min(agreement, window - prompt);
            if (steps < 1) throw new CliErrors.UsageException("--ctx " + window + " leaves no room for --agreement after the prompt");
            try (Transformer a = reference.newTransformer(prompt + steps);
             Transformer b = candidate.newTransformer(prompt + steps)) {
                TokenAgreement.Result r = TokenAgreement.compare(a::forward, b::forward, Arrays.copyOf(tokens, prompt), steps);
                out.printf(Locale.ROOT, "greedy agreement with the exact model %.2f%% (%d of %d tokens), first difference %s%n",
                        100 * r.rate(), r.agreed(), r.steps(), r.firstDisagreement() < 0 ? "none" : "at token " + r.firstDisagreement());
            }
        }
    }

    private static LanguageModel languageModel(InferenceModel m) {
        if (m instanceof LoadedModel lm) return lm.languageModel();
        throw new IllegalStateException("perplexity needs the engine's own model, got " + m.getClass().getName());
    }

    /** One transformer per window, closed by the caller afterwards (each holds its KV cache off-heap). */
    private static IntFunction<TokenModel> sessions(LanguageModel lm, List<Transformer> open) {
        return len -> {
            for (Transformer t : open) t.close();
            open.clear();
            Transformer t = lm.newTransformer(len);
            open.add(t);
            return t::forward;
        };
    }
}
