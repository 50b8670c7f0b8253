package io.flashllm.server.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/** The effective server configuration: every {@link Setting} with a checked value of its kind. */
public final class ServerConfig {
    private final EnumMap<Setting, Object> values;
    private final Map<Setting, String> sources;

    ServerConfig(EnumMap<Setting, Object> values, Map<Setting, String> sources) {
        this.values = new EnumMap<>(values);
        this.sources = Map.copyOf(sources);
    }

    /** Defaults, with {@code overrides} (raw values as a YAML file or a command line would give them) on top. */
    public static ServerConfig of(Map<Setting, ?> overrides) {
        EnumMap<Setting, Object> v = new EnumMap<>(Setting.class);
        EnumMap<Setting, String> src = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            v.put(s, s.defaultValue());
            src.put(s, "default");
        }
        overrides.forEach((s, raw) -> {
            v.put(s, SettingValues.coerce(s, raw, "override"));
            src.put(s, "override");
        });
        return new ServerConfig(v, src);
    }

    public static ServerConfig defaults() {
        return of(Map.of());
    }

    public Object get(Setting s) { return values.get(s); }
    /** Which layer the value came from: default, a file path, env, or command line. */
    public String source(Setting s) { return sources.get(s); }

    public String model() { return (String) values.get(Setting.MODEL); }
    public String modelAlias() { return (String) values.get(Setting.MODEL_ALIAS); }
    public String host() { return (String) values.get(Setting.HOST); }
    public int port() { return (Integer) values.get(Setting.PORT); }
    public String apiKey() { return (String) values.get(Setting.API_KEY); }
    public boolean insecureAllowNoKey() { return (Boolean) values.get(Setting.INSECURE_ALLOW_NO_KEY); }
    public int parallel() { return (Integer) values.get(Setting.PARALLEL); }
    public int queueSize() { return (Integer) values.get(Setting.QUEUE_SIZE); }
    public int ctx() { return (Integer) values.get(Setting.CTX); }
    public int threads() { return (Integer) values.get(Setting.THREADS); }
    public int maxPromptTokens() { return (Integer) values.get(Setting.MAX_PROMPT_TOKENS); }
    public long maxBodyBytes() { return (Long) values.get(Setting.MAX_BODY_BYTES); }
    public int maxHeaderBytes() { return (Integer) values.get(Setting.MAX_HEADER_BYTES); }
    public int idleTimeoutSeconds() { return (Integer) values.get(Setting.IDLE_TIMEOUT_SECONDS); }
    public int requestReadTimeoutSeconds() { return (Integer) values.get(Setting.REQUEST_READ_TIMEOUT_SECONDS); }
    public long slowReaderTimeoutMs() { return (Long) values.get(Setting.SLOW_READER_TIMEOUT_MS); }
    public int writeQueueBytes() { return (Integer) values.get(Setting.WRITE_QUEUE_BYTES); }
    public long pingIntervalMs() { return (Long) values.get(Setting.PING_INTERVAL_MS); }
    public int shutdownGraceSeconds() { return (Integer) values.get(Setting.SHUTDOWN_GRACE_SECONDS); }
    @SuppressWarnings("unchecked")
    public List<String> corsOrigins() { return (List<String>) values.get(Setting.CORS_ORIGINS); }
    public boolean metricsRequireKey() { return (Boolean) values.get(Setting.METRICS_REQUIRE_KEY); }
    public String memoryBudget() { return (String) values.get(Setting.MEMORY_BUDGET); }
    public String selector() { return (String) values.get(Setting.SELECTOR); }
    public String predictorSampleRate() { return (String) values.get(Setting.PREDICTOR_SAMPLE_RATE); }
    public int window() { return (Integer) values.get(Setting.WINDOW); }
    public int ioDepth() { return (Integer) values.get(Setting.IO_DEPTH); }
    public int prefetchGuesses() { return (Integer) values.get(Setting.PREFETCH_GUESSES); }
    public boolean directIo() { return (Boolean) values.get(Setting.DIRECT_IO); }
    public String backend() { return (String) values.get(Setting.BACKEND); }
    public String kvType() { return (String) values.get(Setting.KV_TYPE); }
    public String kvSpillDir() { return (String) values.get(Setting.KV_SPILL_DIR); }

    /** The pooling setting, or null when not set (the model's own, else last). */
    public io.flashllm.engine.api.Pooling pooling() {
        String text = (String) values.get(Setting.POOLING);
        if (text == null) return null;
        try {
            return io.flashllm.engine.api.Pooling.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage(), e);
        }
    }

    /** The chat-template setting as a format, or null when not set (the model's own). */
    public io.flashllm.engine.chat.ChatTemplate chatTemplate() {
        String text = (String) values.get(Setting.CHAT_TEMPLATE);
        if (text == null || text.isBlank()) return null;
        try {
            return io.flashllm.engine.chat.ChatTemplates.chosen(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("chat-template: " + e.getMessage(), e);
        }
    }

    /** reasoning-format: whether a thinking model's thinking is answered apart from its answer. */
    public boolean reasoningSeparate() {
        String f = (String) values.get(Setting.REASONING_FORMAT);
        return switch (f) {
            case "deepseek", "auto" -> true;
            case "none" -> false;
            default -> throw new ConfigException("reasoning-format takes deepseek or none, not '" + f + "'");
        };
    }

    /** reasoning-budget: whether thinking models think unless a request says otherwise. */
    public boolean reasoningByDefault() {
        return (Integer) values.get(Setting.REASONING_BUDGET) != 0;
    }

    /** kv-spill-max in bytes. */
    public long kvSpillMaxBytes() {
        String text = (String) values.get(Setting.KV_SPILL_MAX);
        try {
            return io.flashllm.flashstore.budget.MemorySize.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("kv-spill-max takes a size such as 600M, 1.5G or 4096, not '" + text + "'", e);
        }
    }
    public boolean warmup() { return (Boolean) values.get(Setting.WARMUP); }
    public boolean deterministic() { return (Boolean) values.get(Setting.DETERMINISTIC); }

    public boolean hasApiKey() {
        String k = apiKey();
        return k != null && !k.isEmpty();
    }

    /** The compute thread count to use: the configured one, or every core. */
    public int effectiveThreads() {
        return threads() > 0 ? threads() : Runtime.getRuntime().availableProcessors();
    }

    /**
     * Refuses to expose an unauthenticated server: a bind address that is not loopback needs an API
     * key unless the operator explicitly opted out.
     */
    public void checkExposure() {
        if (hasApiKey() || insecureAllowNoKey()) return;
        if (!isLoopback(host())) {
            throw new ConfigException("refusing to listen on " + host() + " without an API key: set --api-key (or "
                    + Setting.API_KEY.envName() + "), bind 127.0.0.1, or pass --insecure-allow-no-key");
        }
    }

    static boolean isLoopback(String host) {
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) {
                if (!a.isLoopbackAddress()) return false;
            }
            return true;
        } catch (UnknownHostException e) {
            throw new ConfigException("host '" + host + "' does not resolve", e);
        }
    }

    /** One line per setting, secrets masked, with where each value came from; fit for a start-up log. */
    public String describe() {
        StringJoiner j = new StringJoiner("\n");
        for (Setting s : Setting.values()) {
            Object v = values.get(s);
            String shown;
            if (s.secret()) {
                shown = v == null || v.toString().isEmpty() ? "(none)" : "****";
            } else {
                shown = v == null ? "(none)" : v.toString();
            }
            j.add("  " + s.key() + " = " + shown + "  [" + sources.get(s) + "]");
        }
        return j.toString();
    }

    @Override
    public String toString() {
        return "ServerConfig{\n" + describe() + "\n}";
    }
}
