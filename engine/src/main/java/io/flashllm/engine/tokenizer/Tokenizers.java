package io.flashllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Builds the tokenizer of a model, from GGUF metadata or from a Hugging Face model directory. */
public final class Tokenizers {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Tokenizers() {}

    /** The tokenizer stored in GGUF metadata ({@code tokenizer.ggml.*}), SentencePiece or byte-level BPE. */
    public static Tokenizer fromGguf(Map<String, Object> metadata) {
        return fromVocab(GgufVocab.fromMetadata(metadata));
    }

    public static Tokenizer fromVocab(GgufVocab vocab) {
        return switch (vocab.model()) {
            case "llama" -> new SpmTokenizer(vocab);
            case "gpt2" -> new BpeTokenizer(vocab);
            default -> throw new TokenizerException("unsupported tokenizer model '" + vocab.model() + "'");
        };
    }

    /**
     * The tokenizer of a Hugging Face model directory: {@code tokenizer.json} run by the Hugging Face library, with
     * BOS/EOS from {@code config} (config.json, may be null), generation_config.json and tokenizer_config.json.
     */
    public static Tokenizer fromHfDir(Path dir, JsonNode config) {
        Path tokJson = tokenizerJson(dir);
        JsonNode tokenizer = readJson(tokJson);
        HfSpecials.Sources sources = sources(dir, config);
        try {
            return new HfTokenizer(tokJson, tokenizer, sources);
        } catch (HfTokenizer.LibraryFailure e) {
            // No usable native library here (or it rejects the file): the built-in tokenizers handle the common
            // layouts exactly; if they cannot either, both reasons are reported.
            try {
                return HfJsonVocab.tokenizer(tokJson, tokenizer, sources);
            } catch (TokenizerException builtin) {
                throw new TokenizerException(e.getMessage() + "; " + builtin.getMessage(), e);
            }
        }
    }

    /**
     * The tokenizer of a Hugging Face model directory run by flashllm's own SentencePiece/BPE code instead of the
     * Hugging Face library: for the byte-level and SentencePiece-converted BPE layouts of LLM tokenizers (others
     * are refused with a {@link TokenizerException}). Unlike the library it honours {@code parseSpecial = false}.
     */
    public static Tokenizer fromHfDirBuiltin(Path dir, JsonNode config) {
        Path tokJson = tokenizerJson(dir);
        return HfJsonVocab.tokenizer(tokJson, readJson(tokJson), sources(dir, config));
    }

    private static Path tokenizerJson(Path dir) {
        Path tokJson = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokJson)) {
            throw new TokenizerException(dir + ": no tokenizer.json (a tokenizer.model-only directory is not supported; "
                    + "convert it with transformers or use a GGUF file)");
        }
        return tokJson;
    }

    private static HfSpecials.Sources sources(Path dir, JsonNode config) {
        return new HfSpecials.Sources(config,
                readOptional(dir.resolve("generation_config.json")), readOptional(dir.resolve("tokenizer_config.json")));
    }

    static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new TokenizerException(file + ": not readable JSON: " + e.getMessage(), e);
        }
    }

    static JsonNode readOptional(Path file) {
        return Files.isRegularFile(file) ? readJson(file) : null;
    }
}
