package io.flashllm.server.config;

import java.util.List;

/**
 * Every server setting, with its name as written in the YAML file (kebab-case), its environment
 * variable (FLASHLLM_ + upper snake case), its kind, default and allowed range. One table keeps the
 * four configuration layers and the help text from drifting apart.
 */
public enum Setting {
    MODEL("model", Kind.STRING, null, 0, 0, false, "model file or directory; none serves the built-in demo model"),
    MODEL_ALIAS("model-alias", Kind.STRING, null, 0, 0, false, "model id shown by /v1/models (default: the model's own id)"),
    HOST("host", Kind.STRING, "127.0.0.1", 0, 0, false, "address to bind"),
    PORT("port", Kind.INT, 8080, 0, 65535, false, "TCP port (0 picks a free one)"),
    API_KEY("api-key", Kind.STRING, null, 0, 0, true, "Bearer key clients must send; required on non-loopback addresses"),
    INSECURE_ALLOW_NO_KEY("insecure-allow-no-key", Kind.BOOL, false, 0, 0, false,
            "allow a non-loopback bind without an API key"),
    PARALLEL("parallel", Kind.INT, 1, 1, 256, false, "generation slots (concurrent requests), each with its own KV cache"),
    QUEUE_SIZE("queue-size", Kind.INT, 16, 0, 100_000, false, "requests that may wait for a slot; beyond that 429"),
    CTX("ctx", Kind.INT, 0, 0, 1 << 24, false, "context length per slot (0: the model's, at most 4096)"),
    THREADS("threads", Kind.INT, 0, 0, 4096, false, "compute threads (0: all cores)"),
    KV_TYPE("kv-type", Kind.STRING, "f16", 0, 0, false,
            "KV cache element type: f16, f32, or q8_0 (53% of f16's memory, as llama.cpp's --cache-type-k/-v q8_0)"),
    KV_SPILL_DIR("kv-spill-dir", Kind.STRING, null, 0, 0, false,
            "a directory on flash where a conversation's keys and values go when its slot is given to another,"
                    + " and come back from when it continues (none: they are dropped and its history runs again)"),
    KV_SPILL_MAX("kv-spill-max", Kind.STRING, "4G", 0, 0, false,
            "most bytes kv-spill-dir holds; the conversation saved longest ago goes first"),
    MAX_PROMPT_TOKENS("max-prompt-tokens", Kind.INT, 0, 0, 1 << 24, false, "longest prompt accepted (0: the context length)"),
    MAX_BODY_BYTES("max-body-bytes", Kind.LONG, 4L << 20, 1024, 1L << 31, false, "largest request body; beyond that 413"),
    MAX_HEADER_BYTES("max-header-bytes", Kind.INT, 16 << 10, 1024, 1 << 20, false, "largest request header block"),
    IDLE_TIMEOUT_SECONDS("idle-timeout-seconds", Kind.INT, 120, 1, 86_400, false,
            "close a connection with no request in flight after this long"),
    REQUEST_READ_TIMEOUT_SECONDS("request-read-timeout-seconds", Kind.INT, 30, 1, 3600, false,
            "close a connection whose request body has not fully arrived after this long"),
    SLOW_READER_TIMEOUT_MS("slow-reader-timeout-ms", Kind.LONG, 30_000L, 1, 3_600_000L, false,
            "a stream whose client stops reading is paused, then cancelled after this long"),
    WRITE_QUEUE_BYTES("write-queue-bytes", Kind.INT, 256 << 10, 1024, 1 << 30, false,
            "bytes buffered per response before generation pauses"),
    PING_INTERVAL_MS("ping-interval-ms", Kind.LONG, 2_000L, 10, 3_600_000L, false,
            "SSE ': ping' comment interval while a stream waits or its prompt is processed"),
    SHUTDOWN_GRACE_SECONDS("shutdown-grace-seconds", Kind.INT, 30, 0, 3600, false,
            "on SIGTERM, how long running requests may finish before they are ended"),
    CORS_ORIGINS("cors-origins", Kind.LIST, List.of(), 0, 0, false, "origins allowed by CORS (none: CORS off)"),
    METRICS_REQUIRE_KEY("metrics-require-key", Kind.BOOL, false, 0, 0, false,
            "require the API key on /metrics too"),
    MEMORY_BUDGET("memory-budget", Kind.STRING, null, 0, 0, false,
            "flash bundles: DRAM budget for the whole model, e.g. 600M (none: no limit)"),
    SELECTOR("selector", Kind.STRING, "auto", 0, 0, false,
            "flash bundles: which FFN neurons to load: auto (exact), dense, gate-exact or predicted (after flashllm calibrate)"),
    PREDICTOR_SAMPLE_RATE("predictor-sample-rate", Kind.STRING, null, 0, 0, false,
            "flash bundles, selector predicted: share of (token, layer) pairs checked against the exact mask for the recall"
                    + " metrics (none: 0.02 with resident gates, else 0)"),
    WINDOW("window", Kind.INT, 5, 0, 1024, false,
            "flash bundles: tokens a used neuron stays in the DRAM cache"),
    IO_DEPTH("io-depth", Kind.INT, 0, 0, 1024, false,
            "flash bundles: reads in flight at once (0: automatic; Linux native AIO: 256 for groups <= 16 KiB, else 128; else 16 read threads)"),
    PREFETCH_GUESSES("prefetch-guesses", Kind.INT, 64, 0, 1 << 16, false,
            "flash bundles, gate-exact: the next layer's likeliest neurons read ahead on a guess while a layer computes,"
                    + " for layers that wait on flash (the guess costs a second gate product; 0: none)"),
    DIRECT_IO("direct-io", Kind.BOOL, true, 0, 0, false,
            "flash bundles: read neurons with O_DIRECT (false: through the page cache)"),
    BACKEND("backend", Kind.STRING, "cpu", 0, 0, false,
            "where decode steps run: cpu, or tornado (TornadoVM; needs the -Ptornado build and TORNADOVM_HOME)"),
    POOLING("pooling", Kind.STRING, null, 0, 0, false,
            "embeddings: how a text's token states become one vector: mean, cls or last"
                    + " (none: what the model file declares, else last, as decoder embedding models read it)"),
    CHAT_TEMPLATE("chat-template", Kind.STRING, null, 0, 0, false,
            "the chat format instead of the model's own: a name (chatml, llama3, mistral-v11, qwen3-coder, ...; an unknown"
                    + " name lists them) or a Jinja template file, recognised from its text (none: the model's template)"),
    REASONING_FORMAT("reasoning-format", Kind.STRING, "deepseek", 0, 0, false,
            "thinking models (Qwen3, QwQ, DeepSeek R1): deepseek answers their thinking apart (reasoning_content;"
                    + " Ollama's thinking), none leaves it in the text between its tags; a request's reasoning_format wins"),
    REASONING_BUDGET("reasoning-budget", Kind.INT, -1, -1, 0, false,
            "thinking models: -1 lets them think before answering, 0 makes them answer directly"
                    + " (a request's enable_thinking, reasoning_effort or think wins)"),
    WARMUP("warmup", Kind.BOOL, true, 0, 0, false,
            "run the model on a few tokens before the first request, so its kernels are compiled (seconds at start)"),
    DETERMINISTIC("deterministic", Kind.BOOL, false, 0, 0, false,
            "every request gets the tokens and log-probabilities `flashllm generate` gives its prompt, whatever runs beside"
                    + " it and whatever its slot held: a slot reuses only whole 64-token prompt chunks run as a new prompt runs"
                    + " them, and decode steps run batched only where that adds alike (F32, F16, BF16, Q8_0), else one slot"
                    + " at a time (not for flash bundles)");

    /** Value kinds a setting may have. */
    public enum Kind { STRING, INT, LONG, BOOL, LIST }

    private final String key;
    private final Kind kind;
    private final Object defaultValue;
    private final long min;
    private final long max;
    private final boolean secret;
    private final String description;

    Setting(String key, Kind kind, Object defaultValue, long min, long max, boolean secret, String description) {
        this.key = key;
        this.kind = kind;
        this.defaultValue = defaultValue;
        this.min = min;
        this.max = max;
        this.secret = secret;
        this.description = description;
    }

    public String key() { return key; }
    public Kind kind() { return kind; }
    public Object defaultValue() { return defaultValue; }
    public long min() { return min; }
    public long max() { return max; }
    public boolean secret() { return secret; }
    public String description() { return description; }

    /** FLASHLLM_API_KEY for api-key. */
    public String envName() {
        return "FLASHLLM_" + key.replace('-', '_').toUpperCase(java.util.Locale.ROOT);
    }

    public static Setting byKey(String key) {
        for (Setting s : values()) {
            if (s.key.equals(key)) return s;
        }
        return null;
    }
}
