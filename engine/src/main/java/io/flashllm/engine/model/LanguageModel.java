package io.flashllm.engine.model;

import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.kernels.Dequant;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.WeightTensor;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A loaded model's shared, read-only part: config, weights, FFN and the thread pool. Each sequence
 * gets its own {@link Transformer} (KV cache and activations). Forward passes of different
 * sequences take turns on {@link #lock()}: they share the pool and the FFN's scratch space, and two
 * of them at once would only halve each other's cores. Decode steps of four or more sequences that
 * arrive together run as one pass ({@link DecodeBatcher}).
 */
public final class LanguageModel implements AutoCloseable {
    private final ModelConfig config;
    private final ModelWeights weights;
    private final FeedForward ffn;
    private final Parallel parallel;
    private final KvCacheType kvCacheType;
    private final float[] invFreq;
    private final float[] localInvFreq;
    /** gpt-oss's sink logits per layer, one per query head; null for the models without them. */
    private final float[][] sinks;
    // Fair: concurrent sequences take turns token by token instead of one starving the others.
    private final ReentrantLock lock = new ReentrantLock(true);
    private final AutoCloseable resources;
    // The accelerator every new sequence runs on (null: the CPU); switched off, with deviceError, when its
    // first logits disagree with the CPU's. volatile: sequences on other threads read it.
    private volatile DeviceBackend device;
    private volatile String deviceError;
    // The backend to release at close, kept when a mismatch switches the device off.
    private volatile DeviceBackend attached;
    // Set once the first sequence has passed the device cross-check (logged once per model).
    private final AtomicBoolean deviceAnnounced = new AtomicBoolean();
    // Concurrent sequences' decode steps, batched (null: -Dflashllm.batchDecode=false, each step alone);
    // -Dflashllm.batch.waitMicros: how long a batch waits for the sequences that decoded lately.
    private final DecodeBatcher batcher = Boolean.parseBoolean(System.getProperty("flashllm.batchDecode", "true"))
            ? new DecodeBatcher(TimeUnit.MICROSECONDS.toNanos(
                    Long.getLong("flashllm.batch.waitMicros", DecodeBatcher.DEFAULT_WAIT_MICROS)))
            : null;
    // A batch's logits, one row per sequence (allocated by the first batch; guarded by the lock).
    private float[] batchLogits;
    // Bytes held by the KV caches of the sequences not yet closed (for the server's metrics).
    private final AtomicLong kvCacheBytesOpen = new AtomicLong();

    /**
     * @param resources closed with the model after the FFN and the pool (the mapped files)
     */
    public LanguageModel(ModelConfig config, ModelWeights weights, FeedForward ffn, Parallel parallel,
                         KvCacheType kvCacheType, AutoCloseable resources) {
        this.config = config;
        this.weights = weights;
        this.ffn = ffn;
        this.parallel = parallel;
        this.kvCacheType = kvCacheType;
        this.resources = resources;
        this.invFreq = config.rope().style() == RopeStyle.NONE ? new float[0] : config.rope().inverseFrequencies();
        this.localInvFreq = config.localRope() == null ? invFreq : config.localRope().inverseFrequencies();
        this.sinks = sinks(weights);
    }

    private static float[][] sinks(ModelWeights weights) {
        if (weights.layers().isEmpty() || weights.layers().get(0).sinks() == null) return null;
        float[][] out = new float[weights.layers().size()][];
        for (int l = 0; l < out.length; l++) {
            WeightTensor t = weights.layers().get(l).sinks();
            out[l] = new float[t.cols()];
            Dequant.row(t, 0, out[l], 0);
        }
        return out;
    }

    /** The sink logits of {@code layer}'s query heads (gpt-oss), or null when the model has none. */
    float[] sinks(int layer) {
        return sinks == null ? null : sinks[layer];
    }

    public ModelConfig config() {
        return config;
    }

    public ModelWeights weights() {
        return weights;
    }

    public FeedForward ffn() {
        return ffn;
    }

    public Parallel parallel() {
        return parallel;
    }

    float[] invFreq() {
        return invFreq;
    }

    /** The inverse frequencies {@code layer} rotates by (Gemma 3's windowed layers have their own). */
    float[] invFreq(int layer) {
        return config.windowOf(layer) > 0 ? localInvFreq : invFreq;
    }

    ReentrantLock lock() {
        return lock;
    }

    DecodeBatcher batcher() {
        return decodeAlone ? null : batcher;
    }

    /**
     * Set by {@link #decodeAlone()}: every decode step runs alone, as with -Dflashllm.batchDecode=false.
     * volatile: sequences on other threads read it.
     */
    private volatile boolean decodeAlone;

    /**
     * From now on each sequence's decode steps run alone, never batched with other sequences': for
     * most quantized types the small-batch matrix kernels add a row's products in another order than
     * one sequence's matrix-vector kernels, so a batched step's logits can differ from the same step
     * alone in the last bits ({@code MatVec.smallBatchMatchesMatvec}). Costs the batching's gain with
     * four or more sequences decoding at once.
     */
    public void decodeAlone() {
        decodeAlone = true;
    }

    /** {@link DecodeBatcher#MAX_ROWS} rows of logits for a decode batch; the caller holds {@link #lock()}. */
    float[] batchLogits() {
        if (batchLogits == null) batchLogits = new float[DecodeBatcher.MAX_ROWS * config.vocabSize()];
        return batchLogits;
    }

    /**
     * Runs every new sequence's decode step on {@code backend}; each sequence's first logits are
     * cross-checked against the CPU's. Fails when the backend does not support this model.
     */
    public void useDevice(DeviceBackend backend) {
        String why = backend.unsupportedReason(this);
        if (why != null) {
            throw new IllegalStateException("backend '" + backend.name() + "' cannot run " + config.name() + ": " + why);
        }
        this.deviceError = null;
        this.device = backend;
        this.attached = backend;
    }

    /**
     * Runs one token (id 0 at position 0) on the device and on the CPU and compares the logits, as
     * every sequence's first token is: at load time this compiles the device's kernels and uploads
     * the weights before the first request, and a device that disagrees fails the load. The state
     * it opened goes back to the backend for the first real sequence.
     */
    public void verifyDevice() {
        if (device == null) return;
        try (Transformer t = newTransformer(1)) {
            t.forward(0, 0);
        }
    }

    /** The backend new sequences run on, or null for the CPU. */
    public DeviceBackend device() {
        return device;
    }

    /** True the first time it is called after a sequence passed the device cross-check. */
    boolean firstDeviceCheckPassed() {
        return deviceAnnounced.compareAndSet(false, true);
    }

    /** Switches the device off after a mismatch: later sequences fail with {@code error} instead of running on the CPU. */
    void disableDevice(String error) {
        this.deviceError = error;
        this.device = null;
    }

    /** A new sequence with room for {@code contextLength} positions (at most the model's). */
    public Transformer newTransformer(int contextLength) {
        if (contextLength <= 0) throw new IllegalArgumentException("context length must be positive, got " + contextLength);
        String error = deviceError;
        if (error != null) throw new DeviceMismatchException(error);
        int ctx = Math.min(contextLength, config.contextLength());
        // On a device the CPU's cache serves only the first token's cross-check, against a device
        // that keeps F32 keys and values: an F16 cache there would be a difference of its own, and
        // a FATReLU gate at its threshold turns a rounding into a jump (a random FATReLU 1.1B
        // disagreed by 7-8% with F16, 7.5e-7 with F32).
        KvCacheType kv = device != null ? KvCacheType.F32 : kvCacheType;
        Transformer t = switch (config.architecture()) {
            case LLAMA, QWEN2, QWEN3, GEMMA2, GEMMA3, PHI3, GPT_OSS -> new LlamaTransformer(this, ctx, kv);
            case OPT -> new OptTransformer(this, ctx, kv);
        };
        kvCacheBytesOpen.addAndGet(t.kvCacheBytes());
        return t;
    }

    /** A sequence closed and freed its KV cache of {@code bytes}. */
    void kvCacheFreed(long bytes) {
        kvCacheBytesOpen.addAndGet(-bytes);
    }

    /** Bytes held by the KV caches of the sequences open now. */
    public long kvCacheBytesOpen() {
        return kvCacheBytesOpen.get();
    }

    /** Passes that ran several sequences' decode steps together since load (0 with batching off). */
    public long decodeBatches() {
        return batcher == null ? 0 : batcher.batchedPasses();
    }

    /** Decode steps that ran in such passes since load. */
    public long batchedDecodeSteps() {
        return batcher == null ? 0 : batcher.batchedSteps();
    }

    @Override
    public void close() {
        lock.lock();
        try {
            DeviceBackend d = attached;
            if (d != null) d.release(this);
            ffn.close();
            parallel.close();
            if (resources != null) resources.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing model " + config.name() + " failed", e);
        } finally {
            lock.unlock();
        }
    }
}
