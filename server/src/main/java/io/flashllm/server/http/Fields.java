package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Typed, range-checked reads of optional request fields; every failure is a 400 naming the field. */
final class Fields {
    private Fields() {}

    static JsonNode get(JsonNode body, String name) {
        JsonNode n = body.get(name);
        return n == null || n.isNull() ? null : n;
    }

    static Double number(JsonNode body, String name, double min, double max) {
        JsonNode n = get(body, name);
        if (n == null) return null;
        if (!n.isNumber()) throw ApiError.invalid(name, "invalid_type", "'" + name + "' must be a number");
        double v = n.doubleValue();
        if (!(v >= min && v <= max)) {
            throw ApiError.invalid(name, "'" + name + "' must be between " + min + " and " + max + ", got " + v);
        }
        return v;
    }

    static Long integer(JsonNode body, String name, long min, long max) {
        JsonNode n = get(body, name);
        if (n == null) return null;
        // 3.0 is an integer to most JSON producers (JavaScript has no other kind).
        boolean integral = n.isIntegralNumber() || (n.isFloatingPointNumber() && n.doubleValue() == Math.rint(n.doubleValue()));
        if (!integral || !n.canConvertToLong()) {
            throw ApiError.invalid(name, "invalid_type", "'" + name + "' must be an integer");
        }
        long v = n.longValue();
        if (v < min || v > max) {
            throw ApiError.invalid(name, "'" + name + "' must be between " + min + " and " + max + ", got " + v);
        }
        return v;
    }

    static Boolean bool(JsonNode body, String name) {
        JsonNode n = get(body, name);
        if (n == null) return null;
        if (!n.isBoolean()) throw ApiError.invalid(name, "invalid_type", "'" + name + "' must be a boolean");
        return n.booleanValue();
    }

    static String string(JsonNode body, String name) {
        JsonNode n = get(body, name);
        if (n == null) return null;
        if (!n.isTextual()) throw ApiError.invalid(name, "invalid_type", "'" + name + "' must be a string");
        return n.textValue();
    }

    /** A string or an array of strings (stop sequences). */
    static List<String> strings(JsonNode body, String name, int maxCount) {
        JsonNode n = get(body, name);
        if (n == null) return List.of();
        List<String> out = new ArrayList<>();
        if (n.isTextual()) {
            out.add(n.textValue());
        } else if (n.isArray()) {
            for (JsonNode item : n) {
                if (!item.isTextual()) {
                    throw ApiError.invalid(name, "invalid_type", "'" + name + "' must be a string or an array of strings");
                }
                out.add(item.textValue());
            }
        } else {
            throw ApiError.invalid(name, "invalid_type", "'" + name + "' must be a string or an array of strings");
        }
        if (out.size() > maxCount) {
            throw ApiError.invalid(name, "'" + name + "' may hold at most " + maxCount + " entries");
        }
        for (String s : out) {
            if (s.isEmpty()) throw ApiError.invalid(name, "'" + name + "' entries must not be empty");
        }
        return List.copyOf(out);
    }
}
