package io.flashllm.flashstore.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.flashstore.ModelFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code model.safetensors.index.json} of a sharded checkpoint: {@code weight_map} maps each tensor
 * name to the shard file holding it. Shard names must stay inside the model directory.
 */
public record SafetensorsIndex(Map<String, String> weightMap, JsonNode metadata) {
    public static final String FILE_NAME = "model.safetensors.index.json";

    public SafetensorsIndex {
        weightMap = Collections.unmodifiableMap(new LinkedHashMap<>(weightMap));
    }

    public static SafetensorsIndex read(Path file) {
        return parse(file, StrictJson.read(file));
    }

    public static SafetensorsIndex parse(Path file, byte[] json) {
        return parse(file, StrictJson.parse(file, json, "safetensors index"));
    }

    private static SafetensorsIndex parse(Path file, JsonNode root) {
        if (!root.isObject()) throw new ModelFileException(file, "bad JSON: the index is not a JSON object");
        JsonNode map = root.get("weight_map");
        if (map == null) throw new ModelFileException(file, "missing required key: 'weight_map'");
        if (!map.isObject()) throw new ModelFileException(file, "wrong value type: 'weight_map' is not an object");
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isTextual()) {
                throw new ModelFileException(file, "wrong value type: weight_map['" + e.getKey() + "'] is not a string");
            }
            String shard = e.getValue().textValue();
            checkShardName(file, e.getKey(), shard);
            weightMap.put(e.getKey(), shard);
        }
        JsonNode metadata = root.get("metadata");
        return new SafetensorsIndex(weightMap, metadata);
    }

    /** Shard names are plain relative paths: no absolute paths, no "..", nothing a path cannot hold. */
    private static void checkShardName(Path file, String tensor, String shard) {
        boolean bad = shard.isEmpty() || shard.indexOf('\0') >= 0 || shard.startsWith("/") || shard.startsWith("\\")
                || shard.contains(":");
        if (!bad) {
            for (String part : shard.split("[/\\\\]")) {
                if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                    bad = true;
                    break;
                }
            }
        }
        if (bad) {
            throw new ModelFileException(file, "bad shard name: weight_map['" + tensor + "'] = '" + shard
                    + "' is not a relative file name inside the model directory");
        }
    }
}
