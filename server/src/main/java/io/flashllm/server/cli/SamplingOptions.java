package io.flashllm.server.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.grammar.Grammar;
import io.flashllm.engine.grammar.GrammarException;
import io.flashllm.engine.grammar.JsonSchemaGrammar;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    @Option(names = "--grammar", paramLabel = "GBNF",
            description = "Only generate text that is a sentence of this GBNF grammar (llama.cpp's format).")
    String grammar;

    @Option(names = "--grammar-file", paramLabel = "FILE", description = "--grammar, read from a file.")
    Path grammarFile;

    @Option(names = {"-j", "--json-schema"}, paramLabel = "SCHEMA",
            description = "Only generate JSON valid against this JSON schema (the schema's text; '{}' is any JSON).")
    String jsonSchema;

    @Option(names = "--json-schema-file", paramLabel = "FILE", description = "--json-schema, read from a file.")
    Path jsonSchemaFile;

    @Option(names = {"-l", "--logit-bias"}, paramLabel = "ID(+|-)BIAS",
            description = "Add BIAS to token ID's logit, e.g. 15043+1 or 29871-100 (repeatable).")
    List<String> logitBias = new ArrayList<>();

    private static final Pattern BIAS = Pattern.compile("(\\d+)([+-]\\d+(?:\\.\\d+)?|[+-]inf)");

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
                topLogprobs, bias(), grammar());
    }

    private Map<Integer, Float> bias() {
        Map<Integer, Float> out = new HashMap<>();
        for (String b : logitBias) {
            Matcher m = BIAS.matcher(b);
            if (!m.matches()) {
                throw new CliErrors.UsageException("--logit-bias takes TOKEN_ID+BIAS or TOKEN_ID-BIAS, got '" + b + "'");
            }
            String v = m.group(2);
            // llama.cpp's -inf bans a token; a large finite bias does the same without infinities in the sums.
            float value = v.endsWith("inf") ? (v.startsWith("-") ? -1e4f : 1e4f) : Float.parseFloat(v);
            try {
                out.put(Integer.parseInt(m.group(1)), value);
            } catch (NumberFormatException e) {
                throw new CliErrors.UsageException("--logit-bias: no token has the id " + m.group(1));
            }
        }
        return out;
    }

    private Grammar grammar() {
        int given = (grammar != null ? 1 : 0) + (grammarFile != null ? 1 : 0) + (jsonSchema != null ? 1 : 0)
                + (jsonSchemaFile != null ? 1 : 0);
        if (given == 0) return null;
        if (given > 1) {
            throw new CliErrors.UsageException("give one of --grammar, --grammar-file, --json-schema, --json-schema-file");
        }
        try {
            if (grammar != null) return Grammar.parse(grammar);
            if (grammarFile != null) return Grammar.parse(read(grammarFile, "--grammar-file"));
            String schema = jsonSchema != null ? jsonSchema : read(jsonSchemaFile, "--json-schema-file");
            return Grammar.parse(JsonSchemaGrammar.answer(new ObjectMapper().readTree(schema)));
        } catch (GrammarException e) {
            throw new CliErrors.UsageException(e.getMessage());
        } catch (JsonProcessingException e) {
            throw new CliErrors.UsageException("the JSON schema is not JSON: " + e.getOriginalMessage());
        }
    }

    private static String read(Path file, String option) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CliErrors.UsageException(option + ": cannot read " + file + " (" + e.getMessage() + ")");
        }
    }
}
