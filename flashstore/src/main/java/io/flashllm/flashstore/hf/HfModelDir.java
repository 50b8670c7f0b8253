package io.flashllm.flashstore.hf;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.flashstore.ModelFileException;
import io.flashllm.flashstore.safetensors.SafetensorsFile;
import io.flashllm.flashstore.safetensors.SafetensorsIndex;
import io.flashllm.flashstore.safetensors.StrictJson;
import io.flashllm.kernels.WeightTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face model directory: {@code config.json}, optional {@code generation_config.json},
 * {@code tokenizer.json}, and weights in {@code model.safetensors} or shards listed by
 * {@code model.safetensors.index.json}. Every shard is mapped and validated on open, and every
 * tensor the index names must be in its shard.
 */
public final class HfModelDir implements AutoCloseable {
    public static final String CONFIG = "config.json";
    public static final String GENERATION_CONFIG = "generation_config.json";
    public static final String TOKENIZER = "tokenizer.json";
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    public static final String SINGLE_WEIGHTS = "model.safetensors";

    private final Path dir;
    private final JsonNode config;
    private final JsonNode generationConfig;
    private final Path tokenizerJson;
    private final JsonNode tokenizerConfig;
    private final Map<String, SafetensorsFile> shardOf;
    private final List<SafetensorsFile> shards;

    private HfModelDir(Path dir, JsonNode config, JsonNode generationConfig, Path tokenizerJson,
                       JsonNode tokenizerConfig, Map<String, SafetensorsFile> shardOf, List<SafetensorsFile> shards) {
        this.dir = dir;
        this.config = config;
        this.generationConfig = generationConfig;
        this.tokenizerJson = tokenizerJson;
        this.tokenizerConfig = tokenizerConfig;
        this.shardOf = shardOf;
        this.shards = shards;
    }

    public static HfModelDir open(Path dir) {
        if (!Files.isDirectory(dir)) throw new ModelFileException(dir, "not a directory");
        JsonNode config = jsonObject(dir.resolve(CONFIG));
        Path gen = dir.resolve(GENERATION_CONFIG);
        JsonNode generationConfig = Files.exists(gen) ? jsonObject(gen) : null;
        Path tok = dir.resolve(TOKENIZER);
        Path tokenizerJson = Files.isRegularFile(tok) ? tok : null;
        Path tokConfig = dir.resolve(TOKENIZER_CONFIG);
        JsonNode tokenizerConfig = Files.exists(tokConfig) ? jsonObject(tokConfig) : null;

        List<SafetensorsFile> shards = new ArrayList<>();
        Map<String, SafetensorsFile> shardOf = new LinkedHashMap<>();
        try {
            Path index = dir.resolve(SafetensorsIndex.FILE_NAME);
            Path single = dir.resolve(SINGLE_WEIGHTS);
            if (Files.exists(index)) {
                openSharded(dir, index, shards, shardOf);
            } else if (Files.exists(single)) {
                SafetensorsFile f = SafetensorsFile.open(single);
                shards.add(f);
                for (String name : f.names()) shardOf.put(name, f);
            } else {
                throw new ModelFileException(dir, "no weights: neither " + SINGLE_WEIGHTS + " nor "
                        + SafetensorsIndex.FILE_NAME + " is in the directory");
            }
        } catch (RuntimeException e) {
            for (SafetensorsFile f : shards) f.close();
            throw e;
        }
        return new HfModelDir(dir, config, generationConfig, tokenizerJson, tokenizerConfig,
                Collections.unmodifiableMap(shardOf), List.copyOf(shards));
    }

    private static void openSharded(Path dir, Path indexFile, List<SafetensorsFile> shards,
                                    Map<String, SafetensorsFile> shardOf) {
        SafetensorsIndex index = SafetensorsIndex.read(indexFile);
        Map<String, SafetensorsFile> byShard = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : index.weightMap().entrySet()) {
            SafetensorsFile f = byShard.get(e.getValue());
            if (f == null) {
                Path shardPath = dir.resolve(e.getValue());
                if (!Files.isRegularFile(shardPath)) {
                    throw new ModelFileException(indexFile, "missing shard: '" + e.getValue() + "' (holding '"
                            + e.getKey() + "') is not in " + dir);
                }
                f = SafetensorsFile.open(shardPath);
                shards.add(f);
                byShard.put(e.getValue(), f);
            }
            if (!f.contains(e.getKey())) {
                throw new ModelFileException(indexFile, "missing tensor: the index puts '" + e.getKey() + "' in '"
                        + e.getValue() + "' but that shard does not hold it");
            }
            shardOf.put(e.getKey(), f);
        }
    }

    private static JsonNode jsonObject(Path file) {
        JsonNode n = StrictJson.read(file);
        if (!n.isObject()) throw new ModelFileException(file, "bad JSON: not a JSON object");
        return n;
    }

    public Path dir() {
        return dir;
    }

    /** {@code config.json}. */
    public JsonNode config() {
        return config;
    }

    /** {@code generation_config.json}, or null when the directory has none. */
    public JsonNode generationConfig() {
        return generationConfig;
    }

    /** Path of {@code tokenizer.json}, or null when the directory has none. */
    public Path tokenizerJson() {
        return tokenizerJson;
    }

    /** {@code tokenizer_config.json} (special tokens, chat_template), or null when the directory has none. */
    public JsonNode tokenizerConfig() {
        return tokenizerConfig;
    }

    /** Every tensor name, in index (or header) order. */
    public List<String> tensorNames() {
        return List.copyOf(shardOf.keySet());
    }

    public boolean contains(String name) {
        return shardOf.containsKey(name);
    }

    /** The tensor from whichever shard holds it, or null; see {@link SafetensorsFile#tensor}. */
    public WeightTensor tensor(String name) {
        SafetensorsFile f = shardOf.get(name);
        return f == null ? null : f.tensor(name);
    }

    /** The shard holding {@code name}, or null. */
    public SafetensorsFile shardOf(String name) {
        return shardOf.get(name);
    }

    public List<SafetensorsFile> shards() {
        return shards;
    }

    @Override
    public void close() {
        for (SafetensorsFile f : shards) f.close();
    }
}
