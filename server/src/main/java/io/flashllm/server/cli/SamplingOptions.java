package io.flashllm.server.cli;

import io.flashllm.engine.api.SamplingParams;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/** Sampling flags shared by the commands that generate text; defaults follow llama.cpp's. */
final class SamplingOptions {
    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "128",
            description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8",
            description = "Sampling temperature; 0 is greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95",
            description = "Nucleus sampling: keep the most likely tokens up to probability P (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "40",
            description = "Keep only the K most likely tokens; 0 keeps all (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0.05",
            description = "Drop tokens less likely than P times the most likely one (default: ${DEFAULT-VALUE}).")
    float minP;

    @Option(names = "--repeat-penalty", paramLabel = "R", defaultValue = "1.0",
            description = "Penalty for repeating recent tokens; 1 is off (default: ${DEFAULT-VALUE}).")
    float repeatPenalty;

    @Option(names = "--seed", paramLabel = "S", description = "Random seed for reproducible sampling (default: random).")
    Long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when this text is generated (repeatable).")
    List<String> stop = new ArrayList<>();

    SamplingParams toParams(int topLogprobs) {
        if (maxTokens < 1) throw new CliErrors.UsageException("--max-tokens must be at least 1, got " + maxTokens);
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new CliErrors.UsageException("--temperature must be 0 or more, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) throw new CliErrors.UsageException("--top-p must be in (0, 1], got " + topP);
        if (topK < 0) throw new CliErrors.UsageException("--top-k must not be negative, got " + topK);
        if (!(minP >= 0 && minP < 1)) throw new CliErrors.UsageException("--min-p must be in [0, 1), got " + minP);
        if (!(repeatPenalty > 0)) throw new CliErrors.UsageException("--repeat-penalty must be positive, got " + repeatPenalty);
        long s = seed != null ? seed : System.nanoTime() ^ Thread.currentThread().threadId();
        return new SamplingParams(temperature, topK, topP, minP, repeatPenalty, 64, 0f, 0f, s, maxTokens, stop,
                topLogprobs);
    }
}
