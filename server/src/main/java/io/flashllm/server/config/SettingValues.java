package io.flashllm.server.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Turns a raw value (text from env or command line, or a YAML scalar/list) into a setting's kind, range-checked. */
final class SettingValues {
    private SettingValues() {}

    static Object coerce(Setting s, Object raw, String source) {
        if (raw == null) {
            if (s.kind() == Setting.Kind.STRING) return null;
            throw bad(s, source, "null", "a value");
        }
        return switch (s.kind()) {
            case STRING -> {
                if (raw instanceof String str) yield str.isEmpty() ? null : str;
                if (raw instanceof Number || raw instanceof Boolean) yield raw.toString();
                throw bad(s, source, raw, "a string");
            }
            case INT -> (int) checkRange(s, source, toLong(s, source, raw));
            case LONG -> checkRange(s, source, toLong(s, source, raw));
            case BOOL -> toBool(s, source, raw);
            case LIST -> toList(s, source, raw);
        };
    }

    private static long toLong(Setting s, String source, Object raw) {
        if (raw instanceof Integer || raw instanceof Long || raw instanceof Short || raw instanceof Byte) {
            return ((Number) raw).longValue();
        }
        if (raw instanceof String str) {
            String t = str.trim().replace("_", "");
            long mult = 1;
            String lower = t.toLowerCase(Locale.ROOT);
            // Sizes may carry a binary suffix (max-body-bytes: 4m), as in most server configs.
            if (lower.endsWith("k") || lower.endsWith("m") || lower.endsWith("g")) {
                char c = lower.charAt(lower.length() - 1);
                mult = c == 'k' ? 1L << 10 : c == 'm' ? 1L << 20 : 1L << 30;
                t = t.substring(0, t.length() - 1);
            }
            try {
                return Math.multiplyExact(Long.parseLong(t), mult);
            } catch (NumberFormatException | ArithmeticException e) {
                throw bad(s, source, raw, "an integer");
            }
        }
        throw bad(s, source, raw, "an integer");
    }

    private static long checkRange(Setting s, String source, long v) {
        if (v < s.min() || v > s.max()) {
            throw new ConfigException(source + ": " + s.key() + " = " + v + " is out of range [" + s.min() + ", "
                    + s.max() + "]");
        }
        return v;
    }

    private static boolean toBool(Setting s, String source, Object raw) {
        if (raw instanceof Boolean b) return b;
        if (raw instanceof String str) {
            switch (str.trim().toLowerCase(Locale.ROOT)) {
                case "true", "yes", "on", "1" -> { return true; }
                case "false", "no", "off", "0", "" -> { return false; }
                default -> { }
            }
        }
        throw bad(s, source, raw, "true or false");
    }

    private static List<String> toList(Setting s, String source, Object raw) {
        List<String> out = new ArrayList<>();
        if (raw instanceof String str) {
            for (String part : str.split(",")) {
                if (!part.isBlank()) out.add(part.trim());
            }
            return List.copyOf(out);
        }
        if (raw instanceof List<?> list) {
            for (Object o : list) {
                if (!(o instanceof String str)) throw bad(s, source, raw, "a list of strings");
                out.add(str.trim());
            }
            return List.copyOf(out);
        }
        throw bad(s, source, raw, "a list of strings");
    }

    private static ConfigException bad(Setting s, String source, Object raw, String expected) {
        String shown = s.secret() ? "****" : String.valueOf(raw);
        return new ConfigException(source + ": " + s.key() + " must be " + expected + ", got '" + shown + "'");
    }
}
