package io.flashllm.server.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Builds the effective configuration from four layers, later ones winning: built-in defaults, a YAML
 * file (the one named with --config, else config/flashllm.yaml if present), FLASHLLM_* environment
 * variables, then command-line options.
 */
public final class ConfigLoader {
    /** Looked for in the working directory when no --config is given. */
    public static final Path DEFAULT_FILE = Path.of("config", "flashllm.yaml");

    private ConfigLoader() {}

    /**
     * @param file    the --config file (must exist), or null to use {@link #DEFAULT_FILE} when it exists
     * @param env     the environment, usually System.getenv()
     * @param cmdline values given on the command line (raw text or typed values)
     */
    public static ServerConfig load(Path file, Map<String, String> env, Map<Setting, ?> cmdline) {
        EnumMap<Setting, Object> values = new EnumMap<>(Setting.class);
        EnumMap<Setting, String> sources = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            values.put(s, s.defaultValue());
            sources.put(s, "default");
        }
        Path yaml = file;
        if (yaml == null && Files.isRegularFile(DEFAULT_FILE)) yaml = DEFAULT_FILE;
        if (yaml != null) {
            String source = yaml.toString();
            readYaml(yaml).forEach((s, raw) -> {
                values.put(s, SettingValues.coerce(s, raw, source));
                sources.put(s, source);
            });
        }
        for (Setting s : Setting.values()) {
            String v = env.get(s.envName());
            if (v != null) {
                values.put(s, SettingValues.coerce(s, v, "environment " + s.envName()));
                sources.put(s, "env");
            }
        }
        cmdline.forEach((s, raw) -> {
            if (raw == null) return;
            values.put(s, SettingValues.coerce(s, raw, "command line --" + s.key()));
            sources.put(s, "command line");
        });
        return new ServerConfig(values, sources);
    }

    /** The settings a YAML file sets; unknown keys are errors so that a typo does not silently do nothing. */
    static Map<Setting, Object> readYaml(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("config file " + file + " does not exist or is not a file");
        }
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new ConfigException("config file " + file + " is not valid YAML: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage(), e);
        }
        EnumMap<Setting, Object> out = new EnumMap<>(Setting.class);
        if (root == null || root.isNull() || root.isMissingNode()) return out;
        if (!root.isObject()) throw new ConfigException("config file " + file + " must be a mapping of settings");
        Iterator<Map.Entry<String, JsonNode>> it = root.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            Setting s = Setting.byKey(e.getKey());
            if (s == null) {
                throw new ConfigException("config file " + file + ": unknown setting '" + e.getKey() + "' (known: "
                        + knownKeys() + ")");
            }
            out.put(s, plain(e.getValue(), file, s));
        }
        return out;
    }

    private static Object plain(JsonNode n, Path file, Setting s) {
        if (n.isNull()) return null;
        if (n.isTextual()) return n.textValue();
        if (n.isBoolean()) return n.booleanValue();
        if (n.isIntegralNumber() && n.canConvertToLong()) return n.longValue();
        // Fractions (predictor-sample-rate); integer settings reject them with their own message.
        if (n.isFloatingPointNumber()) return n.doubleValue();
        if (n.isArray()) {
            List<Object> list = new ArrayList<>();
            for (JsonNode item : n) list.add(plain(item, file, s));
            return list;
        }
        throw new ConfigException("config file " + file + ": " + s.key() + " has an unsupported value " + n);
    }

    private static String knownKeys() {
        StringBuilder b = new StringBuilder();
        for (Setting s : Setting.values()) {
            if (!b.isEmpty()) b.append(", ");
            b.append(s.key());
        }
        return b.toString();
    }
}
