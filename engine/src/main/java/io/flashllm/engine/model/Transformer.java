package io.flashllm.engine.model;

import io.flashllm.flashstore.ffn.BatchedFeedForward;
import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.kernels.Ops;
import io.flashllm.kernels.Parallel;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One sequence running through a {@link LanguageModel}: its KV cache and activation buffers. Not
 * thread-safe (one sequence is one thread's business); different sequences may run on different
 * threads, they take turns on the model. {@link #close()} frees the KV cache.
 */
public abstract sealed class Transformer implements AutoCloseable permits LlamaTransformer, OptTransformer {
    private static final System.Logger LOG = System.getLogger(Transformer.class.getName());
    protected final LanguageModel model;
    protected final ModelConfig config;
    protected final Parallel parallel;
    protected final KvCache cache;
    protected final int contextLength;

    // Attention buffers: queries and head outputs (qDim), scores per head (heads x context).
    protected final float[] q;
    protected final float[] attOut;
    private final float[] scores;
    protected final float[] logits;
    private final float attentionScale;
    /**
     * Parts each kv head's query heads are split into for the threads: one (the whole group shares
     * each widened key and value row) unless there are fewer than two kv heads per thread, as with
     * multi-query attention, where a single group would leave threads idle.
     */
    private final int attentionParts;
    private int attLayer;
    private int attStart;
    private int attCount;
    private float[] attQ;
    private float[] attO;
    // Rows of other sequences (a decode batch): row b attends over attRows[b]'s cache at its position; null: this one's.
    private List<DecodeBatcher.Step> attRows;
    private final Parallel.RangeBody attendHeads = this::attendHeads;
    // The device this sequence runs on (null: the CPU), fixed at creation; its state opens on the first token.
    private final DeviceBackend device;
    private DeviceForward deviceForward;
    private boolean deviceChecked;
    private volatile boolean closed;
    // This sequence's step in a decode batch, reused token after token.
    private final DecodeBatcher.Step decodeStep = new DecodeBatcher.Step(this);

    protected Transformer(LanguageModel model, int contextLength, KvCacheType kvType) {
        this.model = model;
        this.config = model.config();
        this.parallel = model.parallel();
        this.contextLength = contextLength;
        this.cache = new KvCache(kvType, config.layers(), contextLength, config.kvDim(), config.headDim());
        this.q = new float[config.qDim()];
        this.attOut = new float[config.qDim()];
        this.scores = new float[config.heads() * contextLength];
        this.logits = new float[config.vocabSize()];
        this.attentionScale = config.attentionScale();
        this.attentionParts = Math.min(config.groupSize(),
                Math.max(1, (2 * parallel.threads() + config.kvHeads() - 1) / config.kvHeads()));
        this.device = model.device();
    }

    /** Where this sequence's decode steps run: the device's description, or "cpu". */
    public String backend() {
        return device == null ? DeviceBackend.CPU : deviceForward == null ? device.name() : deviceForward.device();
    }

    /** Whether the keys and values live in this process's memory (no device backend), where they can be saved. */
    public boolean kvInHostMemory() {
        return device == null;
    }

    /** The host KV cache, for saving and restoring a sequence's keys and values; see {@link #kvInHostMemory}. */
    public KvCache kvCache() {
        if (!kvInHostMemory()) throw new IllegalStateException("the keys and values live on the " + backend() + " device");
        return cache;
    }

    public ModelConfig config() {
        return config;
    }

    public int contextLength() {
        return contextLength;
    }

    public long kvCacheBytes() {
        return cache.byteSize();
    }

    /**
     * Runs {@code token} at position {@code pos} (positions 0..pos-1 must be in the cache) and returns
     * the next-token logits. The array is this transformer's buffer: the caller may change it, the
     * next call overwrites it.
     */
    public final float[] forward(int token, int pos) {
        checkStep(token, pos, 1);
        DecodeBatcher batcher = model.batcher();
        if (batcher != null && device == null && decodesInRows()) return forwardWithOthers(batcher, token, pos);
        ReentrantLock lock = model.lock();
        lock.lock();
        try {
            if (device != null) {
                deviceStep(token, pos);
            } else {
                step(token, pos, true);
            }
            return logits;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@link #forward(int, int)} through the model's {@link DecodeBatcher}: this step runs in one
     * batch with the steps other sequences have pending, led by whichever thread holds the lock first.
     */
    private float[] forwardWithOthers(DecodeBatcher batcher, int token, int pos) {
        DecodeBatcher.Step own = decodeStep;
        own.reset(token, pos);
        batcher.enqueue(own);
        boolean lead;
        try {
            lead = batcher.awaitTurn(own);
        } catch (InterruptedException e) {
            batcher.withdraw(own);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to decode", e);
        }
        if (lead) lead(batcher, own);
        Throwable failure = own.failure();
        if (failure instanceof RuntimeException r) throw r;
        if (failure instanceof Error err) throw err;
        return logits;
    }

    /** This thread's turn to lead a decode batch that holds {@code own}: runs it under the model's lock. */
    private void lead(DecodeBatcher batcher, DecodeBatcher.Step own) {
        List<DecodeBatcher.Step> batch = List.of();
        ReentrantLock lock = model.lock();
        lock.lock();
        try {
            try {
                batch = batcher.take(own);
            } catch (InterruptedException e) {
                batcher.withdraw(own);
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting to decode", e);
            }
            if (batch.size() >= DecodeBatcher.MIN_ROWS) {
                try {
                    stepRows(batch);
                } catch (RuntimeException | Error e) {
                    for (DecodeBatcher.Step s : batch) s.fail(e);
                }
            } else {
                stepEachAlone(batch);
            }
        } finally {
            lock.unlock();
            batcher.complete(batch);
        }
    }

    /**
     * Runs {@code count} prompt tokens from {@code tokens[off]} at positions {@code startPos..} and
     * returns the logits after the last of them (same buffer as {@link #forward(int, int)}). The
     * tokens go through the layers together, {@link #MAX_BATCH} at a time, so each weight is read
     * once per batch rather than once per token.
     */
    public final float[] forward(int[] tokens, int off, int count, int startPos) {
        if (count <= 0) throw new IllegalArgumentException("no tokens to run");
        for (int i = 0; i < count; i++) checkStep(tokens[off + i], startPos + i, 1);
        ReentrantLock lock = model.lock();
        lock.lock();
        try {
            if (device != null) {
                // The device runs its decode step per token; prompt batching is a CPU-side saving.
                for (int i = 0; i < count; i++) deviceStep(tokens[off + i], startPos + i);
                return logits;
            }
            for (int done = 0; done < count; ) {
                int n = Math.min(MAX_BATCH, count - done);
                boolean last = done + n == count;
                if (n == 1) {
                    step(tokens[off + done], startPos + done, last);
                } else {
                    stepBatch(tokens, off + done, n, startPos + done, last);
                }
                done += n;
            }
            return logits;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs {@code count} tokens from {@code tokens[off]} at positions {@code startPos..} (their keys
     * and values go to the cache, as a prompt's) and writes each one's final hidden state (after the
     * model's final norm, where the classifier would start) into row b of {@code hidden} (dim wide),
     * the rows an embedding is pooled from. Always on the CPU, in {@link #MAX_BATCH} batches; with a
     * device backend the device's own cache does not hold these positions.
     */
    public final void hiddenStates(int[] tokens, int off, int count, int startPos, float[] hidden) {
        int dim = config.dim();
        if (hidden.length < (long) count * dim) throw new IllegalArgumentException("room for fewer than " + count + " rows");
        passAsPrompt(tokens, off, count, startPos, (b, row) -> finalHidden(b, hidden, row * dim));
    }

    /** Receives the logits after row {@code row} of a {@link #scoreRows} call (the buffer is reused for the next row). */
    @FunctionalInterface
    public interface RowLogits {
        void accept(int row, float[] logits);
    }

    /**
     * Runs {@code count} tokens as a prompt (keys and values into the cache) and hands over the next-token
     * logits after each of them, the prompt's batched pass with the classifier applied to every row. For
     * scoring a prompt; always on the CPU, as {@link #hiddenStates}.
     */
    public final void scoreRows(int[] tokens, int off, int count, int startPos, RowLogits each) {
        float[] hidden = new float[config.dim()];
        passAsPrompt(tokens, off, count, startPos, (b, row) -> {
            finalHidden(b, hidden, 0);
            classifyHidden(hidden, logits);
            each.accept(row, logits);
        });
    }

    /** What is done with each row after its batch's pass: its place in the batch, and in the call. */
    private interface AfterRow {
        void accept(int batchRow, int row);
    }

    /** The tokens through every layer as a prompt, on the CPU under the model's lock, {@link #MAX_BATCH} at a time. */
    private void passAsPrompt(int[] tokens, int off, int count, int startPos, AfterRow each) {
        if (count <= 0) throw new IllegalArgumentException("no tokens to run");
        for (int i = 0; i < count; i++) checkStep(tokens[off + i], startPos + i, 1);
        ReentrantLock lock = model.lock();
        lock.lock();
        try {
            for (int done = 0; done < count; ) {
                int n = Math.min(MAX_BATCH, count - done);
                stepBatch(tokens, off + done, n, startPos + done, false);
                for (int b = 0; b < n; b++) each.accept(b, done + b);
                done += n;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * One token on the device into {@link #logits}. The first token at position 0 also runs on the CPU
     * and the two sets of logits must agree within {@link DeviceCheck#TOLERANCE}: otherwise the device
     * is switched off for the model and this call fails (no silent fallback to the CPU).
     */
    private void deviceStep(int token, int pos) {
        if (deviceForward == null) deviceForward = device.open(model, contextLength);
        float[] d = deviceForward.forward(token, pos);
        if (!deviceChecked && pos == 0) {
            step(token, pos, true);
            float err = DeviceCheck.relativeError(logits, d, logits.length);
            if (!(err <= DeviceCheck.TOLERANCE)) {
                String msg = "backend " + deviceForward.device() + " disagrees with the CPU on the first token of "
                        + config.name() + " (relative error " + err + " > " + DeviceCheck.TOLERANCE
                        + "); the backend is disabled for this model, run with --backend cpu";
                model.disableDevice(msg);
                throw new DeviceMismatchException(msg);
            }
            deviceChecked = true;
            if (model.firstDeviceCheckPassed()) {
                LOG.log(System.Logger.Level.INFO, "{0}: decode steps on {1}; the first token agrees with the CPU"
                        + " (relative error {2})", config.name(), deviceForward.device(),
                        String.format(Locale.ROOT, "%.1e", err));
            }
        }
        System.arraycopy(d, 0, logits, 0, logits.length);
    }

    /** Prompt tokens processed together at most. */
    public static final int MAX_BATCH = 64;

    /** One token through every layer; the classifier only when {@code wantLogits}. */
    protected abstract void step(int token, int pos, boolean wantLogits);

    /** {@code count} consecutive tokens through every layer; the classifier for the last one when {@code wantLogits}. */
    protected abstract void stepBatch(int[] tokens, int off, int count, int startPos, boolean wantLogits);

    /**
     * Row {@code row} of the last {@link #stepBatch}'s residual stream through the final norm into
     * {@code out} from {@code outOff} (dim values): the hidden state the classifier reads.
     */
    protected abstract void finalHidden(int row, float[] out, int outOff);

    /** The classifier on a final hidden state (from {@link #finalHidden}) into {@code logits}. */
    protected abstract void classifyHidden(float[] hidden, float[] logits);

    /**
     * Whether {@link #stepRows} runs several sequences' decode steps in one pass, so that their
     * steps are worth gathering through the model's {@link DecodeBatcher}; else each runs alone.
     */
    protected boolean decodesInRows() {
        return false;
    }

    /**
     * One decode step of each of the batch's sequences (this one among them), each sequence's logits
     * into its own buffer. An architecture that {@link #decodesInRows()} overrides this with one pass
     * through the layers, each row attending over its own sequence's cache; this default runs the
     * steps {@linkplain #stepEachAlone one after another}.
     */
    protected void stepRows(List<DecodeBatcher.Step> batch) {
        stepEachAlone(batch);
    }

    /** The batch's steps one after another, each as it would run alone; a failure is its own sequence's. */
    private static void stepEachAlone(List<DecodeBatcher.Step> batch) {
        for (DecodeBatcher.Step s : batch) {
            try {
                s.sequence.step(s.token, s.pos, true);
            } catch (RuntimeException | Error e) {
                s.fail(e);
            }
        }
    }

    /** Whether {@link #close()} has run. */
    final boolean isClosed() {
        return closed;
    }

    private void checkStep(int token, int pos, int count) {
        if (token < 0 || token >= config.vocabSize()) {
            throw new IllegalArgumentException("token id " + token + " outside the vocabulary of " + config.vocabSize());
        }
        if (pos < 0 || pos + count > contextLength) {
            throw new IllegalArgumentException("position " + pos + " outside the context of " + contextLength);
        }
    }

    /** Multi-head (grouped-query) attention of the queries in {@link #q} over positions 0..pos, into {@link #attOut}. */
    protected final void attention(int layer, int pos) {
        attention(layer, pos, 1, q, attOut);
    }

    /**
     * Causal attention for {@code count} consecutive tokens from {@code startPos}: query row b of
     * {@code qs} (qDim wide) attends to positions 0..startPos+b, into row b of {@code outs}. Their
     * keys and values must be in the cache already.
     */
    protected final void attention(int layer, int startPos, int count, float[] qs, float[] outs) {
        attLayer = layer;
        attStart = startPos;
        attCount = count;
        attQ = qs;
        attO = outs;
        parallel.forRange(attentionParts * config.kvHeads(), attendHeads);
        attQ = null;
        attO = null;
    }

    /**
     * Attention for a decode batch: query row b of {@code qs} is the step of {@code rows.get(b)}'s
     * sequence and attends over that sequence's cache, positions 0..its pos (keys and values stored).
     */
    protected final void attentionRows(int layer, List<DecodeBatcher.Step> rows, float[] qs, float[] outs) {
        attRows = rows;
        try {
            attention(layer, 0, rows.size(), qs, outs);
        } finally {
            attRows = null;
        }
    }

    /**
     * Units {@code from..to} of the attention: unit u is part {@code u % attentionParts} of the query
     * heads that share kv head {@code u / attentionParts}, each part attending as one group.
     */
    private void attendHeads(int from, int to) {
        int hd = config.headDim();
        int qDim = config.qDim();
        int group = config.groupSize();
        int perPart = (group + attentionParts - 1) / attentionParts;
        int window = config.windowOf(attLayer);
        float[] sinks = model.sinks(attLayer);
        for (int u = from; u < to; u++) {
            int kvHead = u / attentionParts;
            int h0 = kvHead * group + (u % attentionParts) * perPart;
            int heads = Math.min(perPart, (kvHead + 1) * group - h0);
            if (heads <= 0) continue;
            // A prompt batch's rows attend to the same keys and values: as matrix products.
            if (attRows == null && attCount > 1 && BatchAttention.applies(hd)) {
                BatchAttention.attend(cache, attLayer, kvHead, hd, heads, attQ, h0 * hd, qDim, attCount, attStart, window,
                        attentionScale, config.attnSoftcap(), sinks, h0, attO);
                continue;
            }
            for (int b = 0; b < attCount; b++) {
                int at = b * qDim + h0 * hd;
                Transformer seq = attRows == null ? this : attRows.get(b).sequence;
                int last = attRows == null ? attStart + b : attRows.get(b).pos;
                int first = window > 0 ? Math.max(0, last - window + 1) : 0;
                Attention.attendGroup(seq.cache, attLayer, kvHead, heads, hd, attQ, at, first, last, attentionScale,
                        config.attnSoftcap(), sinks, h0, seq.scores, h0 * seq.contextLength, seq.contextLength, attO, at);
            }
        }
    }

    /** Runs the FFN of {@code layer} on {@code count} rows of {@code in} (dim wide) into {@code out}. */
    protected final void feedForwardBatch(FeedForward ffn, int layer, float[] in, int count, float[] out,
                                          float[] rowIn, float[] rowOut) {
        if (ffn instanceof BatchedFeedForward batched) {
            batched.forwardBatch(layer, in, count, out);
            return;
        }
        int dim = config.dim();
        for (int b = 0; b < count; b++) {
            System.arraycopy(in, b * dim, rowIn, 0, dim);
            ffn.forward(layer, rowIn, rowOut);
            System.arraycopy(rowOut, 0, out, b * dim, dim);
        }
    }

    /** The residual add, {@code x[0..n) += y[0..n)}, by the kernels' vectorized one. */
    protected static void add(float[] x, float[] y, int n) {
        Ops.add(x, 0, y, 0, n);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        DecodeBatcher batcher = model.batcher();
        if (batcher != null) batcher.closed();
        if (deviceForward != null) deviceForward.close();
        model.kvCacheFreed(cache.byteSize());
        cache.close();
    }
}
