package io.flashllm.flashstore.safetensors;

import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashllm.flashstore.ModelFileException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * JSON for model files: duplicate keys and trailing garbage are errors (a later duplicate would
 * otherwise silently win), nesting is bounded, and every failure names the file.
 */
public final class StrictJson {
    /** Bigger JSON side files (config, index) than this are not model metadata. */
    public static final long MAX_FILE_BYTES = 64L << 20;

    private static final ObjectMapper MAPPER = mapper(false);
    /** Python's json module writes NaN and Infinity into config files; accept them there. */
    private static final ObjectMapper SIDE_FILE_MAPPER = mapper(true);

    private static ObjectMapper mapper(boolean nonNumericNumbers) {
        JsonFactoryBuilder b = new JsonFactoryBuilder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
        if (nonNumericNumbers) b.enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS);
        return new ObjectMapper(b.build())
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(JsonParser.Feature.AUTO_CLOSE_SOURCE);
    }

    private StrictJson() {}

    /** Parses {@code bytes} (the whole document) taken from {@code file}; {@code what} names it in errors. */
    public static JsonNode parse(Path file, byte[] bytes, String what) {
        return parse(MAPPER, file, bytes, what);
    }

    private static JsonNode parse(ObjectMapper mapper, Path file, byte[] bytes, String what) {
        try {
            JsonNode node = mapper.readTree(bytes);
            if (node == null || node.isMissingNode()) throw new ModelFileException(file, "bad JSON: " + what + " is empty");
            return node;
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " (byte " + e.getLocation().getByteOffset() + ")";
            throw new ModelFileException(file, "bad JSON: " + what + ": " + firstLine(e.getOriginalMessage()) + where, e);
        } catch (IOException e) {
            throw new ModelFileException(file, "bad JSON: " + what + ": " + firstLine(e.getMessage()), e);
        }
    }

    /** Reads and parses a whole JSON side file (config, index); NaN and Infinity are accepted. */
    public static JsonNode read(Path file) {
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new ModelFileException(file, "JSON file of " + size + " bytes is over the limit of " + MAX_FILE_BYTES);
            }
            return parse(SIDE_FILE_MAPPER, file, Files.readAllBytes(file), "file");
        } catch (NoSuchFileException e) {
            throw new ModelFileException(file, "file not found");
        } catch (IOException e) {
            throw new ModelFileException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "malformed";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
