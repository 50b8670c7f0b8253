package io.flashllm.engine.model;

import io.flashllm.flashstore.ModelFileException;

import java.nio.file.Path;
import java.util.Map;

/** Typed reads of GGUF metadata values, with errors that name the file and the key. */
final class GgufMetadata {
    private final Map<String, Object> values;
    private final Path file;

    GgufMetadata(Map<String, Object> values, Path file) {
        this.values = values;
        this.file = file;
    }

    boolean has(String key) {
        return values.containsKey(key);
    }

    Path file() {
        return file;
    }

    String string(String key, String dflt) {
        Object v = values.get(key);
        if (v == null) return dflt;
        if (v instanceof String s) return s;
        throw wrongType(key, "a string", v);
    }

    String requireString(String key) {
        String s = string(key, null);
        if (s == null) throw missing(key);
        return s;
    }

    int integer(String key, int dflt) {
        Object v = values.get(key);
        if (v == null) return dflt;
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            long l = ((Number) v).longValue();
            if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
                throw new ModelFileException(file, "metadata " + key + " = " + l + " is out of range");
            }
            return (int) l;
        }
        throw wrongType(key, "an integer", v);
    }

    int requireInt(String key) {
        if (!values.containsKey(key)) throw missing(key);
        return integer(key, 0);
    }

    float real(String key, float dflt) {
        Object v = values.get(key);
        if (v == null) return dflt;
        if (v instanceof Number n) return n.floatValue();
        throw wrongType(key, "a number", v);
    }

    boolean bool(String key, boolean dflt) {
        Object v = values.get(key);
        if (v == null) return dflt;
        if (v instanceof Boolean b) return b;
        throw wrongType(key, "a boolean", v);
    }

    /** An array value, or null when absent. */
    java.util.List<?> list(String key) {
        Object v = values.get(key);
        if (v == null) return null;
        if (v instanceof java.util.List<?> l) return l;
        throw wrongType(key, "an array", v);
    }

    ModelFileException missing(String key) {
        return new ModelFileException(file, "metadata key " + key + " is missing");
    }

    private ModelFileException wrongType(String key, String want, Object got) {
        return new ModelFileException(file, "metadata " + key + " should be " + want + " but is "
                + got.getClass().getSimpleName() + " " + got);
    }
}
