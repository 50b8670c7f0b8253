package io.flashllm.server.http;

import io.flashllm.engine.api.DecodeStats;
import io.flashllm.engine.api.ExpertStatsSource;
import io.flashllm.engine.api.FlashStatsSource;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.flashstore.ModelFileException;
import io.flashllm.server.config.ConfigException;
import io.flashllm.server.config.ConfigLoader;
import io.flashllm.server.config.ServerConfig;
import io.flashllm.server.config.Setting;
import io.flashllm.server.metrics.FlashMetricsBinder;
import io.flashllm.server.metrics.DecodeMetrics;
import io.flashllm.server.metrics.ExpertMetrics;
import io.flashllm.server.metrics.FlashStoreMetrics;
import io.flashllm.server.metrics.ServerMetrics;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code flashllm serve}: binds the HTTP port at once (health says "loading"), loads the model,
 * then serves until SIGTERM/SIGINT, when it drains gracefully. Options override FLASHLLM_*
 * environment variables, which override the YAML config file, which overrides the defaults.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a model over an OpenAI-compatible HTTP API (completions, chat, SSE, /metrics).")
public final class ServeCommand implements Callable<Integer> {
    private static final System.Logger LOG = System.getLogger(ServeCommand.class.getName());

    @Option(names = {"-m", "--model"}, paramLabel = "PATH",
            description = "GGUF file, Hugging Face directory or flash bundle; none serves the built-in demo model.")
    Path model;
    @Option(names = "--host", description = "Address to bind (default 127.0.0.1).")
    String host;
    @Option(names = "--port", description = "TCP port (default 8080; 0 picks a free one).")
    Integer port;
    @Option(names = "--api-key", description = "Bearer key clients must send; required off loopback.")
    String apiKey;
    @Option(names = "--insecure-allow-no-key", description = "Allow a non-loopback bind without an API key.")
    Boolean insecureAllowNoKey;
    @Option(names = {"-np", "--parallel"}, description = "Generation slots, each with its own KV cache (default 1).")
    Integer parallel;
    @Option(names = "--queue-size", description = "Requests that may wait for a slot before 429 (default 16).")
    Integer queueSize;
    @Option(names = {"-c", "--ctx"}, description = "Context length per slot (default: the model's, at most 4096).")
    Integer ctx;
    @Option(names = {"-t", "--threads"}, description = "Compute threads (default: all cores).")
    Integer threads;
    @Option(names = "--kv-type", paramLabel = "TYPE",
            description = "KV cache element type: f16, f32, or q8_0 (53%% of f16's memory, as llama.cpp's --cache-type-k/-v q8_0) (default: f16).")
    String kvType;
    @Option(names = "--kv-spill-dir", paramLabel = "DIR",
            description = "A directory on flash for the keys and values of conversations whose slot another one takes;"
                    + " they come back from there when the conversation continues (default: none, they are dropped).")
    Path kvSpillDir;
    @Option(names = "--kv-spill-max", paramLabel = "SIZE", description = "Most bytes --kv-spill-dir holds (default 4G).")
    String kvSpillMax;
    @Option(names = {"-a", "--alias", "--model-alias"}, description = "Model id shown to clients (default: the model's own).")
    String modelAlias;
    @Option(names = "--cors-origin", split = ",", description = "Origins allowed by CORS (default: none, CORS off).")
    List<String> corsOrigins;
    @Option(names = "--config", paramLabel = "FILE", description = "YAML config file (default: config/flashllm.yaml if present).")
    Path configFile;
    @Option(names = "--memory-budget", paramLabel = "SIZE",
            description = "Flash bundles: DRAM budget for the whole model, e.g. 600M (default: no limit).")
    String memoryBudget;
    @Option(names = {"--selector", "--ffn-mode"}, paramLabel = "NAME",
            description = "Flash bundles: which neurons to load: auto (exact), dense, gate-exact or predicted"
                    + " (needs `flashllm calibrate` first) (default: auto).")
    String selector;
    @Option(names = "--window", paramLabel = "K", description = "Flash bundles: tokens a used neuron stays cached (default 5; with gate-exact at least that: it stays while the cache has room).")
    Integer window;
    @Option(names = "--predictor-sample-rate", paramLabel = "P",
            description = "Flash bundles, --selector predicted: share of (token, layer) pairs checked for the recall metrics (default: 0.02 with resident gates, else 0).")
    String predictorSampleRate;
    @Option(names = "--no-direct-io", description = "Flash bundles: read through the page cache instead of O_DIRECT.")
    Boolean noDirectIo;
    @Option(names = "--io-depth", paramLabel = "N",
            description = "Flash bundles: reads in flight at once (default with Linux native AIO: 256 for groups of up to 16 KiB, else 128;"
                    + " 16 read threads without it).")
    Integer ioDepth;
    @Option(names = "--prefetch-guesses", paramLabel = "N",
            description = "Flash bundles, gate-exact: the next layer's likeliest neurons read ahead on a guess, for layers that wait on flash (default 64; 0: none).")
    Integer prefetchGuesses;
    @Option(names = "--backend", paramLabel = "NAME",
            description = "Where decode steps run: cpu or tornado (TornadoVM; README \"GPU (TornadoVM)\") (default: cpu).")
    String backend;

    /** What --chat-template takes, for serve and the commands that load a model. */
    public static final String CHAT_TEMPLATE_HELP = "The chat format instead of the model's own: a name (chatml, llama3,"
            + " mistral-v11, qwen3-coder, ...; an unknown name lists them) or a Jinja template file, recognised from its text.";

    @Option(names = "--chat-template", paramLabel = "NAME|FILE", description = CHAT_TEMPLATE_HELP)
    String chatTemplate;

    @Option(names = "--reasoning-format", paramLabel = "FORMAT",
            description = "Thinking models: deepseek answers their thinking apart (reasoning_content), none leaves it in the"
                    + " text (default: deepseek).")
    String reasoningFormat;

    @Option(names = "--reasoning-budget", paramLabel = "N",
            description = "Thinking models: -1 lets them think before answering, 0 makes them answer directly (default: -1).")
    Integer reasoningBudget;

    @Option(names = "--pooling", paramLabel = "NAME",
            description = "Embeddings: mean, cls or last (default: what the model file declares, else last).")
    String pooling;

    @Option(names = "--max-prompt-tokens", paramLabel = "N",
            description = "Longest prompt accepted (default 0: the context length).")
    Integer maxPromptTokens;

    @Option(names = "--no-warmup", description = "Skip running the model on a few tokens before the first request.")
    Boolean noWarmup;

    @Option(names = "--deterministic",
            description = "Every request gets exactly what `flashllm generate` gives its prompt (log-probabilities to the bit),"
                    + " whatever runs beside it: slots reuse only whole 64-token prompt chunks, and decode steps run batched"
                    + " only where that adds alike (F32, F16, BF16, Q8_0), else one slot at a time (not for flash bundles).")
    Boolean deterministic;

    private final ModelProvider provider;
    private final List<FlashMetricsBinder> binders;

    /** Serves models loaded by the engine ({@link EngineModels}). */
    public ServeCommand() {
        this(EngineModels::load, List.of());
    }

    /**
     * @param provider loads the model from the effective configuration
     * @param binders  extra meters (flash store cache, I/O) to publish on /metrics
     */
    public ServeCommand(ModelProvider provider, List<FlashMetricsBinder> binders) {
        this.provider = provider;
        this.binders = List.copyOf(binders);
    }

    /** The command-line layer of the configuration: only options actually given. */
    Map<Setting, Object> commandLine() {
        Map<Setting, Object> m = new EnumMap<>(Setting.class);
        if (model != null) m.put(Setting.MODEL, model.toString());
        if (host != null) m.put(Setting.HOST, host);
        if (port != null) m.put(Setting.PORT, port.toString());
        if (apiKey != null) m.put(Setting.API_KEY, apiKey);
        if (insecureAllowNoKey != null) m.put(Setting.INSECURE_ALLOW_NO_KEY, insecureAllowNoKey.toString());
        if (parallel != null) m.put(Setting.PARALLEL, parallel.toString());
        if (queueSize != null) m.put(Setting.QUEUE_SIZE, queueSize.toString());
        if (ctx != null) m.put(Setting.CTX, ctx.toString());
        if (threads != null) m.put(Setting.THREADS, threads.toString());
        if (kvType != null) m.put(Setting.KV_TYPE, kvType);
        if (kvSpillDir != null) m.put(Setting.KV_SPILL_DIR, kvSpillDir.toString());
        if (kvSpillMax != null) m.put(Setting.KV_SPILL_MAX, kvSpillMax);
        if (modelAlias != null) m.put(Setting.MODEL_ALIAS, modelAlias);
        if (corsOrigins != null) m.put(Setting.CORS_ORIGINS, corsOrigins);
        if (memoryBudget != null) m.put(Setting.MEMORY_BUDGET, memoryBudget);
        if (selector != null) m.put(Setting.SELECTOR, selector);
        if (predictorSampleRate != null) m.put(Setting.PREDICTOR_SAMPLE_RATE, predictorSampleRate);
        if (window != null) m.put(Setting.WINDOW, window.toString());
        if (ioDepth != null) m.put(Setting.IO_DEPTH, ioDepth.toString());
        if (prefetchGuesses != null) m.put(Setting.PREFETCH_GUESSES, prefetchGuesses.toString());
        if (noDirectIo != null && noDirectIo) m.put(Setting.DIRECT_IO, "false");
        if (backend != null) m.put(Setting.BACKEND, backend);
        if (chatTemplate != null) m.put(Setting.CHAT_TEMPLATE, chatTemplate);
        if (reasoningFormat != null) m.put(Setting.REASONING_FORMAT, reasoningFormat);
        if (reasoningBudget != null) m.put(Setting.REASONING_BUDGET, reasoningBudget.toString());
        if (pooling != null) m.put(Setting.POOLING, pooling);
        if (maxPromptTokens != null) m.put(Setting.MAX_PROMPT_TOKENS, maxPromptTokens.toString());
        if (noWarmup != null && noWarmup) m.put(Setting.WARMUP, "false");
        if (deterministic != null && deterministic) m.put(Setting.DETERMINISTIC, "true");
        return m;
    }

    /** A started server with its model; {@link #stop} drains it gracefully. */
    static final class Running {
        final ServerConfig config;
        final ApiServer server;
        final ServerMetrics metrics;
        final int port;
        private InferenceModel model;
        private boolean stopped;

        Running(ServerConfig config, ApiServer server, ServerMetrics metrics, int port) {
            this.config = config;
            this.server = server;
            this.metrics = metrics;
            this.port = port;
        }

        synchronized void model(InferenceModel m) {
            model = m;
        }

        /** Idempotent: drains the server, then frees the model and the meters. */
        synchronized void stop() {
            if (stopped) return;
            stopped = true;
            server.shutdown();
            if (model != null) model.close();
            metrics.close();
        }
    }

    /** Failure to start, with the exit code the command returns. */
    static final class StartException extends Exception {
        final int exitCode;

        StartException(String message, int exitCode, Throwable cause) {
            super(message, cause);
            this.exitCode = exitCode;
        }
    }

    /**
     * Resolves the configuration, binds the port, loads the model and serves it. Returns once the
     * model is serving; the caller owns the returned handle.
     */
    Running start(Map<String, String> env) throws StartException {
        ServerConfig config;
        try {
            config = ConfigLoader.load(configFile, env, commandLine());
            config.checkExposure();
            // A wrong path is a usage error: say so before binding a port and loading anything.
            if (config.model() != null && !Files.exists(Path.of(config.model()))) {
                throw new ConfigException("no such model file or directory: " + config.model());
            }
            // So are the model's options (kv-type, memory-budget, selector, ...), which the load parses.
            EngineModels.loadOptions(config);
            config.pooling();
            config.reasoningSeparate();
            config.kvSpillMaxBytes();
            if (config.kvSpillDir() != null) {
                Path spillDir = Path.of(config.kvSpillDir());
                try {
                    Files.createDirectories(spillDir);
                } catch (IOException e) {
                    throw new ConfigException("kv-spill-dir " + spillDir + " cannot be created: " + e.getMessage(), e);
                }
                if (!Files.isWritable(spillDir)) throw new ConfigException("kv-spill-dir " + spillDir + " is not writable");
            }
        } catch (ConfigException e) {
            throw new StartException(e.getMessage(), 2, e);
        }
        LOG.log(Level.INFO, "effective configuration:\n{0}", config.describe());
        ServerMetrics metrics = new ServerMetrics();
        ApiServer server;
        int boundPort;
        try {
            server = new ApiServer(config, metrics);
            boundPort = server.start();
        } catch (RuntimeException e) {
            metrics.close();
            throw new StartException("cannot start the HTTP server: " + e.getMessage(), 1, e);
        }
        Running running = new Running(config, server, metrics, boundPort);
        System.err.println("flashllm: listening on http://" + config.host() + ":" + boundPort + " (loading model...)");
        try {
            InferenceModel m = provider.load(config);
            running.model(m);
            for (FlashMetricsBinder b : binders) metrics.bind(b);
            if (m instanceof FlashMetricsBinder b) metrics.bind(b);
            if (m instanceof FlashStatsSource s) s.flashStats().ifPresent(st -> metrics.bind(new FlashStoreMetrics(st)));
            if (m instanceof ExpertStatsSource s) s.expertStats().ifPresent(st -> metrics.bind(new ExpertMetrics(st)));
            if (m instanceof DecodeStats d) metrics.bind(new DecodeMetrics(d));
            server.serve(m);
            System.err.println("flashllm: ready, model " + m.info().id() + " on http://" + config.host() + ":" + boundPort);
            return running;
        } catch (Exception | OutOfMemoryError e) {
            // Faults in the user's files carry a message naming file and fault; anything else is our bug.
            boolean expected = e instanceof ConfigException || e instanceof ModelFileException;
            LOG.log(expected ? Level.DEBUG : Level.ERROR, "loading the model failed", e);
            server.failed(e);
            running.stop();
            throw new StartException("loading the model failed: " + e.getMessage(), 1, e);
        }
    }

    @Override
    public Integer call() {
        PrintStream err = System.err;
        CountDownLatch stopped = new CountDownLatch(1);
        Running[] holder = new Running[1];
        // Registered first so that a SIGTERM during model loading also drains cleanly.
        Thread hook = Thread.ofPlatform().name("flashllm-shutdown").unstarted(() -> {
            Running r;
            synchronized (holder) {
                r = holder[0];
            }
            if (r != null) {
                err.println("flashllm: shutting down (grace " + r.config.shutdownGraceSeconds() + " s)");
                r.stop();
            }
            stopped.countDown();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Running r = start(System.getenv());
            synchronized (holder) {
                holder[0] = r;
            }
        } catch (StartException e) {
            err.println("flashllm serve: " + e.getMessage());
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException alreadyShuttingDown) {
                // the JVM is exiting anyway
            }
            return e.exitCode;
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }
}
