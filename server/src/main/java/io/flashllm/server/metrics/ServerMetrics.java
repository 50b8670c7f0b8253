package io.flashllm.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * The server's meters on one Prometheus registry. Names follow Prometheus conventions (flashllm_*,
 * seconds, _total for counters); the full list with meanings is in server/METRICS.md.
 */
public final class ServerMetrics implements AutoCloseable {
    // Latency buckets from 5 ms to 2 min: token latencies sit at the low end, prompts and queues high.
    private static final Duration[] LATENCY_BUCKETS = {
        Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
        Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
        Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
        Duration.ofSeconds(60), Duration.ofSeconds(120)
    };
    private static final double[] TOKEN_BUCKETS = {1, 8, 32, 128, 512, 2048, 8192, 32768};

    private final PrometheusMeterRegistry registry;
    private final JvmGcMetrics gcMetrics;
    private final ConcurrentHashMap<String, Counter> requestCounters = new ConcurrentHashMap<>();
    private final Counter promptTokens;
    private final Counter cachedPromptTokens;
    private final Counter generatedTokens;
    private final Counter embeddingInputs;
    private final Counter embeddingTokens;
    private final Timer timeToFirstToken;
    private final Timer interTokenLatency;
    private final Timer endToEnd;
    private final Timer queueWait;
    private final DistributionSummary promptLength;
    private final ConcurrentHashMap<String, Counter> cancellations = new ConcurrentHashMap<>();

    public ServerMetrics() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics = new JvmGcMetrics();
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);

        promptTokens = Counter.builder("flashllm.prompt.tokens")
                .description("prompt tokens processed").baseUnit("tokens").register(registry);
        cachedPromptTokens = Counter.builder("flashllm.prompt.cached.tokens")
                .description("prompt tokens a slot's KV cache already held (not run again)").baseUnit("tokens")
                .register(registry);
        generatedTokens = Counter.builder("flashllm.generated.tokens")
                .description("tokens generated").baseUnit("tokens").register(registry);
        embeddingInputs = Counter.builder("flashllm.embedding.inputs")
                .description("texts embedded (each input of an embeddings request)").register(registry);
        embeddingTokens = Counter.builder("flashllm.embedding.tokens")
                .description("tokens run to make embeddings").baseUnit("tokens").register(registry);
        timeToFirstToken = latency("flashllm.time.to.first.token",
                "from request arrival to the first generated token (queue wait and prompt included)");
        interTokenLatency = latency("flashllm.inter.token.latency", "time between consecutive generated tokens");
        endToEnd = latency("flashllm.request.duration", "from request arrival to the last token, per inference request");
        queueWait = latency("flashllm.queue.wait", "time a request waited for a free slot");
        promptLength = DistributionSummary.builder("flashllm.prompt.length")
                .description("prompt length per request").baseUnit("tokens")
                .serviceLevelObjectives(TOKEN_BUCKETS).register(registry);
    }

    private Timer latency(String name, String description) {
        return Timer.builder(name).description(description).serviceLevelObjectives(LATENCY_BUCKETS)
                .minimumExpectedValue(LATENCY_BUCKETS[0]).maximumExpectedValue(LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1])
                .register(registry);
    }

    public MeterRegistry registry() { return registry; }

    /** Prometheus text exposition format (version 0.0.4). */
    public String scrape() { return registry.scrape(); }

    /** Registers gauges that read the scheduler's live counts at scrape time. */
    public void bindScheduler(IntSupplier running, IntSupplier queued, int slots) {
        // Strong references: Micrometer holds gauge targets weakly, and these lambdas have no other owner.
        Gauge.builder("flashllm.requests.running", running, IntSupplier::getAsInt).strongReference(true)
                .description("requests holding a generation slot").register(registry);
        Gauge.builder("flashllm.requests.queued", queued, IntSupplier::getAsInt).strongReference(true)
                .description("requests waiting for a slot").register(registry);
        Gauge.builder("flashllm.slots", () -> slots).strongReference(true)
                .description("generation slots (--parallel)").register(registry);
    }

    /** Lets the flash store, I/O engine or predictor add their meters. */
    public void bind(FlashMetricsBinder binder) {
        binder.bindTo(registry);
    }

    public void request(String endpoint, int status) {
        String key = endpoint + ' ' + status;
        requestCounters.computeIfAbsent(key, k -> Counter.builder("flashllm.http.requests")
                .description("HTTP requests by endpoint and response status")
                .tag("endpoint", endpoint).tag("status", Integer.toString(status))
                .register(registry)).increment();
    }

    /** A request that ended before it completed: client gone, slow reader, shutdown. */
    public void cancelled(String reason) {
        cancellations.computeIfAbsent(reason, r -> Counter.builder("flashllm.requests.cancelled")
                .description("inference requests ended early, by reason").tag("reason", r)
                .register(registry)).increment();
    }

    /** A completed request's prompt: {@code n} tokens, of which {@code cached} came from the slot's KV cache. */
    public void promptTokens(int n, int cached) {
        promptTokens.increment(n);
        cachedPromptTokens.increment(cached);
        promptLength.record(n);
    }

    public void generatedToken() { generatedTokens.increment(); }

    /** An embeddings request's inputs are done: kept apart from the prompt and latency figures of generations. */
    public void embedded(int inputs, int tokens) {
        embeddingInputs.increment(inputs);
        embeddingTokens.increment(tokens);
    }

    public void timeToFirstToken(long nanos) { timeToFirstToken.record(nanos, TimeUnit.NANOSECONDS); }

    public void interToken(long nanos) { interTokenLatency.record(nanos, TimeUnit.NANOSECONDS); }

    public void endToEnd(long nanos) { endToEnd.record(nanos, TimeUnit.NANOSECONDS); }

    public void queueWait(long nanos) { queueWait.record(nanos, TimeUnit.NANOSECONDS); }

    @Override
    public void close() {
        gcMetrics.close();
        registry.close();
    }
}
