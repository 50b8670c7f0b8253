package io.flashllm.server.http;

import io.flashllm.engine.api.InferenceModel;
import io.flashllm.server.cli.ContextLength;
import io.flashllm.server.config.ConfigException;
import io.flashllm.server.config.ServerConfig;
import io.flashllm.server.metrics.ServerMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CorsHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The OpenAI-compatible HTTP server. Start it before the model is loaded (health answers 503
 * "loading"), hand it the model with {@link #serve}, and stop it with {@link #shutdown}, which lets
 * running requests finish within the grace period and ends the rest with an error.
 */
public final class ApiServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ApiServer.class.getName());
    static final String ARRIVAL_KEY = "flashllm.arrival";
    private static final Set<String> ENDPOINTS = Set.of("/", "/v1/completions", "/v1/chat/completions", "/v1/models",
            "/health", "/metrics", "/tokenize", "/detokenize", "/apply-template",
            "/api/generate", "/api/chat", "/api/tags", "/api/show", "/api/ps", "/api/version",
            "/v1/embeddings", "/api/embed", "/api/embeddings", "/completion", "/completions", "/props", "/embedding", "/embeddings", "/v1/responses");

    private final ServerConfig config;
    private final ServerMetrics metrics;
    private final Vertx vertx;
    private final ConnectionGuard guard;
    private final CompletionRoutes completions;
    private volatile ModelState state = ModelState.loading();
    private HttpServer server;
    private boolean shutDown;

    public ApiServer(ServerConfig config, ServerMetrics metrics) {
        config.checkExposure();
        this.config = config;
        this.metrics = metrics;
        this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1)
                .setWorkerPoolSize(Math.max(2, Runtime.getRuntime().availableProcessors())));
        this.guard = new ConnectionGuard(vertx, config.idleTimeoutSeconds(), config.requestReadTimeoutSeconds());
        this.completions = new CompletionRoutes(vertx, config, () -> state);
        metrics.bindScheduler(this::running, this::queued, config.parallel());
    }

    /** Binds the port; returns the actual one (useful with port 0). */
    public int start() {
        HttpServerOptions opts = new HttpServerOptions()
                .setHost(config.host())
                .setPort(config.port())
                .setMaxHeaderSize(config.maxHeaderBytes())
                .setMaxInitialLineLength(8192)
                .setIdleTimeout(0) // ConnectionGuard does this without cutting long generations
                .setCompressionSupported(false)
                .setDecompressionSupported(false) // a small gzip body could expand past the body limit
                .setHttp2ClearTextEnabled(false) // HTTP/1.1 only: one connection is one client
                .setHandle100ContinueAutomatically(true) // curl waits a second for it on bodies over 1 KiB
                .setTcpNoDelay(true);
        server = vertx.createHttpServer(opts).connectionHandler(guard::onConnect)
                .invalidRequestHandler(this::invalidRequest).requestHandler(router());
        server = await(server.listen(), "binding " + config.host() + ":" + config.port());
        LOG.log(Level.INFO, "listening on http://{0}:{1}", config.host(), String.valueOf(server.actualPort()));
        return server.actualPort();
    }

    public int port() {
        return server.actualPort();
    }

    /** The model is loaded: open the slots and start answering. */
    public void serve(InferenceModel model) {
        synchronized (this) {
            // A SIGTERM during loading got here first: do not start slots on a stopped server.
            if (shutDown) throw new IllegalStateException("the server is shut down");
        }
        if (config.deterministic()) {
            try {
                model.deterministic();
            } catch (IllegalStateException e) {
                throw new ConfigException("deterministic: " + e.getMessage(), e);
            }
        }
        int ctx = contextLength(config, model.info().contextLength());
        String id = config.modelAlias() != null ? config.modelAlias() : model.info().id();
        KvSpill spill = openSpill();
        InferenceScheduler scheduler = new InferenceScheduler(model, config.parallel(), config.queueSize(), ctx, metrics, spill);
        state = new ModelState(ModelState.Phase.READY, model, scheduler, id, ctx, null);
        LOG.log(Level.INFO, "serving model {0} ({1} slots, context {2})", id, String.valueOf(config.parallel()),
                String.valueOf(ctx));
    }

    /** The kv-spill-dir store with its meters, or null when none is configured. */
    private KvSpill openSpill() {
        if (config.kvSpillDir() == null) return null;
        KvSpill spill;
        try {
            spill = new KvSpill(Path.of(config.kvSpillDir()), config.kvSpillMaxBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("kv-spill-dir " + config.kvSpillDir() + ": " + e.getMessage(), e);
        }
        metrics.bind(registry -> {
            FunctionCounter.builder("flashllm.kv.spills", spill, s -> s.spills.get())
                    .description("conversations whose keys and values went to kv-spill-dir when another took their slot")
                    .register(registry);
            FunctionCounter.builder("flashllm.kv.restores", spill, s -> s.restores.get())
                    .description("saved conversations taken back into a slot when they continued").register(registry);
            FunctionCounter.builder("flashllm.kv.restored.tokens", spill, s -> s.restoredTokens.get()).baseUnit("tokens")
                    .description("positions read back from kv-spill-dir instead of run again").register(registry);
            Gauge.builder("flashllm.kv.spill", spill, KvSpill::bytesOnDisk).baseUnit("bytes")
                    .description("bytes of saved conversations in kv-spill-dir").register(registry);
        });
        LOG.log(Level.INFO, "conversations whose slot is taken keep their keys and values in {0} (at most {1} bytes)",
                config.kvSpillDir(), String.valueOf(config.kvSpillMaxBytes()));
        return spill;
    }

    /** The context each slot gets: --ctx if given, else the model's own capped (every slot allocates a KV cache this long). */
    public static int contextLength(ServerConfig config, int modelContext) {
        return ContextLength.of(config.ctx(), modelContext);
    }

    /** Loading failed: /health says so (503) until the process is restarted. */
    public void failed(Throwable t) {
        state = new ModelState(ModelState.Phase.FAILED, null, null, null, 0,
                t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage());
    }

    /** Requests holding a generation slot. */
    public int running() {
        InferenceScheduler s = state.scheduler();
        return s == null ? 0 : s.running();
    }

    /** Admitted completion and embedding requests whose response has not ended yet. */
    int openExchanges() {
        return completions.open();
    }

    /** Requests waiting for a slot. */
    public int queued() {
        InferenceScheduler s = state.scheduler();
        return s == null ? 0 : s.queued();
    }

    static void requireModel(ModelState s) {
        switch (s.phase()) {
            case LOADING -> throw ApiError.unavailable("model_loading", "The model is still loading");
            case FAILED -> throw ApiError.unavailable("model_failed", "The model failed to load: " + s.failure());
            default -> { }
        }
    }

    static void requireReady(ModelState s) {
        requireModel(s);
        if (s.phase() == ModelState.Phase.DRAINING) {
            throw ApiError.unavailable("shutting_down", "The server is shutting down");
        }
    }

    private static String endpoint(String path) {
        if (path == null) return "other";
        if (ENDPOINTS.contains(path)) return path;
        if (path.startsWith("/v1/models/")) return "/v1/models/{id}";
        return "other";
    }

    private Router router() {
        Router router = Router.router(vertx);
        InfoRoutes info = new InfoRoutes(vertx, () -> state, metrics);
        router.route().handler(ctx -> {
            ctx.put(ARRIVAL_KEY, System.nanoTime());
            String ep = endpoint(ctx.normalizedPath());
            ctx.addEndHandler(ar -> metrics.request(ep, ctx.response().getStatusCode()));
            ctx.next();
        });
        router.route().handler(guard::onRequest);
        if (!config.corsOrigins().isEmpty()) {
            router.route().handler(CorsHandler.create()
                    .addOrigins(config.corsOrigins())
                    .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.OPTIONS))
                    .allowedHeaders(Set.of("Authorization", "Content-Type")));
        }
        if (config.hasApiKey()) {
            Set<String> open = new HashSet<>(Set.of("/health"));
            if (!config.metricsRequireKey()) open.add("/metrics");
            // Before the body handler, so an unauthenticated client cannot make us buffer a body.
            router.route().handler(new BearerAuth(config.apiKey(), Set.copyOf(open)));
        }
        router.route().handler(new BodyReader(config.maxBodyBytes()));
        router.route().handler(guard::onBodyRead);

        router.get("/health").handler(info::health);
        // Ollama answers its root with a line of text, and some clients probe it to find a server.
        router.get("/").handler(ctx -> ctx.response().putHeader("Content-Type", "text/plain; charset=utf-8")
                .end("flashllm is running (OpenAI API under /v1, Ollama API under /api)\n"));
        router.get("/metrics").handler(info::metrics);
        router.get("/v1/models").handler(info::models);
        router.get("/v1/models/:id").handler(info::model);
        router.post("/v1/completions").handler(completions::completions);
        router.post("/v1/chat/completions").handler(completions::chat);
        router.post("/v1/responses").handler(completions::responses);
        router.post("/tokenize").handler(info::tokenize);
        router.post("/apply-template").handler(completions::applyTemplate);
        router.post("/completion").handler(completions::llamaCpp);
        router.get("/props").handler(info::props);
        router.post("/completions").handler(completions::llamaCpp);
        OllamaInfoRoutes ollama = new OllamaInfoRoutes(() -> state, config.model());
        router.get("/api/version").handler(ollama::version);
        router.get("/api/tags").handler(ollama::tags);
        router.get("/api/ps").handler(ollama::ps);
        router.post("/api/show").handler(ollama::show);
        router.post("/api/generate").handler(completions::ollamaGenerate);
        router.post("/api/chat").handler(completions::ollamaChat);
        router.post("/detokenize").handler(info::detokenize);
        EmbeddingRoutes embeddings = new EmbeddingRoutes(vertx, config, () -> state, completions);
        router.post("/v1/embeddings").handler(embeddings::openAi);
        router.post("/api/embed").handler(embeddings::ollama);
        router.post("/api/embeddings").handler(embeddings::ollamaLegacy);
        router.post("/embedding").handler(embeddings::llamaCpp);
        router.post("/embeddings").handler(embeddings::llamaCpp);

        router.errorHandler(400, ctx -> Responses.error(ctx, ApiError.invalid(null, "Malformed request")));
        router.errorHandler(403, ctx -> Responses.error(ctx, new ApiError(403, "invalid_request_error",
                "origin_not_allowed", null, "Cross-origin requests from this origin are not allowed")));
        router.errorHandler(404, ctx -> Responses.error(ctx,
                ApiError.notFound("No such endpoint: " + ctx.request().method() + " " + ctx.request().path())));
        router.errorHandler(405, ctx -> Responses.error(ctx, new ApiError(405, "invalid_request_error",
                "method_not_allowed", null, "Method " + ctx.request().method() + " is not allowed on " + ctx.request().path())));
        router.errorHandler(413, ctx -> Responses.error(ctx, new ApiError(413, "invalid_request_error",
                "request_too_large", null, "The request body exceeds " + config.maxBodyBytes() + " bytes")));
        router.errorHandler(500, this::internalError);
        return router;
    }

    /** Requests the HTTP decoder rejected (oversized headers or request line, garbage): JSON errors too. */
    private void invalidRequest(HttpServerRequest req) {
        Throwable cause = req.decoderResult().cause();
        ApiError e;
        if (cause instanceof TooLongHttpHeaderException) {
            e = new ApiError(431, "invalid_request_error", "headers_too_large", null,
                    "Request headers exceed " + config.maxHeaderBytes() + " bytes");
        } else if (cause instanceof TooLongHttpLineException) {
            e = new ApiError(414, "invalid_request_error", "uri_too_long", null, "The request line is too long");
        } else {
            e = ApiError.invalid(null, "malformed_http", "Malformed HTTP request");
        }
        metrics.request("other", e.status);
        // The decoder's state is unknown after this, so the connection closes once the answer is out.
        req.response().setStatusCode(e.status).putHeader("Content-Type", "application/json; charset=utf-8")
                .putHeader("Connection", "close").end(Json.write(e.toJson()));
    }

    private void internalError(RoutingContext ctx) {
        Throwable t = ctx.failure();
        if (t == null) {
            Responses.error(ctx, ApiError.internal("Internal error"));
        } else {
            Responses.failure(ctx, t);
        }
    }

    /**
     * Graceful stop: new requests get 503, running and queued ones may finish within the grace
     * period, the rest are ended with an error; then the port closes. Blocks until done.
     */
    public void shutdown() {
        synchronized (this) {
            if (shutDown) return;
            shutDown = true;
        }
        ModelState s = state;
        InferenceScheduler scheduler = s.scheduler();
        if (s.phase() == ModelState.Phase.READY) state = s.with(ModelState.Phase.DRAINING);
        // Stop accepting connections now; open ones keep going until their responses end or the grace runs out.
        Future<Void> closed = server == null ? Future.succeededFuture()
                : server.shutdown(config.shutdownGraceSeconds() + 3L, TimeUnit.SECONDS);
        if (scheduler != null) {
            scheduler.stopAccepting();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(config.shutdownGraceSeconds());
            while ((!scheduler.idle() || completions.open() > 0) && System.nanoTime() < deadline) sleep(20);
            if (!scheduler.idle() || completions.open() > 0) {
                LOG.log(Level.WARNING, "grace period over; ending {0} open requests", String.valueOf(completions.open()));
            }
            completions.cancelAll();
            scheduler.cancelAll(CancelReason.SHUTDOWN);
            long flush = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (completions.open() > 0 && System.nanoTime() < flush) sleep(10);
            scheduler.close();
        }
        guard.stop();
        // Whatever is still open now is idle keep-alive or already answered: close it instead of waiting.
        if (server != null) awaitQuietly(server.close());
        awaitQuietly(closed);
        awaitQuietly(vertx.close());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static <T> T await(Future<T> f, String what) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(what + " failed: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + " interrupted", e);
        } catch (TimeoutException e) {
            throw new IllegalStateException(what + " timed out", e);
        }
    }

    private static void awaitQuietly(Future<?> f) {
        try {
            f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            LOG.log(Level.WARNING, "close did not complete cleanly", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        shutdown();
    }
}
