package io.flashllm.engine.generate;

import io.flashllm.engine.api.FinishReason;
import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationListener;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.Pooling;
import io.flashllm.engine.api.PromptLogprobs;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;
import io.flashllm.engine.grammar.TokenConstraint;
import io.flashllm.engine.grammar.TokenTrie;
import io.flashllm.engine.model.Transformer;
import io.flashllm.engine.sampling.Logprobs;
import io.flashllm.engine.sampling.Sampler;
import io.flashllm.engine.tokenizer.StreamingDecoder;
import io.flashllm.engine.tokenizer.Tokenizer;
import io.flashllm.kernels.Ops;

import io.flashllm.engine.model.KvCache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * One conversation: a transformer with its KV cache, and the generation loop. A new prompt that
 * starts with what the cache already holds (the previous prompt and reply, as in a chat) only runs
 * the new tokens.
 *
 * <p>Streaming: each sampled token goes to the listener with the text it completes. Text that might
 * be the start of a stop string is held back and arrives with a later token; when generation ends
 * on an end-of-generation token while text is held back, that token is reported too, carrying the
 * held text (it is not part of {@link GenerationResult#tokens()}, like every end-of-generation token).
 */
public final class GenerationSession implements Session {
    /** Prompt tokens per forward call: progress is reported between chunks. */
    static final int PROMPT_CHUNK = 64;

    private final Transformer transformer;
    private final Tokenizer tokenizer;
    private final int samplerVocab;
    /** Tokens whose keys and values are in the cache, in order. */
    private final int[] cached;
    private int cachedCount;
    /**
     * Leading cached positions a new session would compute the same way: run as prompt chunks that
     * began at multiples of {@link #PROMPT_CHUNK} from position 0 (the last chunk possibly short).
     * At most {@link #cachedCount}.
     */
    private int freshCount;
    /**
     * Reuse only whole chunks of {@link #freshCount}: a position's keys and values depend in their
     * last bits on the batch it ran in (the prompt's matrix kernels add in another order than one
     * token's), so a prompt that reuses anything else, or reruns its tail in another batch, can get
     * other logits than the same prompt in a new session.
     */
    private final boolean sameAsFresh;
    private boolean closed;

    GenerationSession(Transformer transformer, Tokenizer tokenizer) {
        this(transformer, tokenizer, false);
    }

    /** {@code sameAsFresh}: every generation gives what it gives in a new session ({@link #reusablePrefix}). */
    GenerationSession(Transformer transformer, Tokenizer tokenizer, boolean sameAsFresh) {
        this.transformer = transformer;
        this.tokenizer = tokenizer;
        this.samplerVocab = Math.min(transformer.config().vocabSize(), tokenizer.vocabSize());
        this.cached = new int[transformer.contextLength()];
        this.sameAsFresh = sameAsFresh;
    }

    public int contextLength() {
        return transformer.contextLength();
    }

    @Override
    public GenerationResult generate(int[] prompt, SamplingParams params, GenerationListener listener) {
        if (closed) throw new IllegalStateException("session is closed");
        GenerationListener out = listener != null ? listener : t -> true;
        int ctx = transformer.contextLength();
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty");
        if (prompt.length >= ctx) {
            throw new IllegalArgumentException("the prompt has " + prompt.length
                    + " tokens; the context holds " + ctx + ", leaving no room to generate");
        }
        for (int t : prompt) {
            if (t < 0 || t >= samplerVocab) {
                throw new IllegalArgumentException("prompt token " + t + " outside the vocabulary of " + samplerVocab);
            }
        }
        TokenConstraint constraint = params.grammar() == null ? null
                : new TokenConstraint(params.grammar(), TokenTrie.of(tokenizer, samplerVocab));
        Sampler sampler = new Sampler(params, samplerVocab, constraint);
        sampler.acceptPrompt(prompt);

        long start = System.nanoTime();
        int reused = reusablePrefix(prompt);
        float[] logits = prefill(prompt, reused, out);
        long promptDone = System.nanoTime();

        int maxTokens = params.maxTokens() > 0 ? params.maxTokens() : Integer.MAX_VALUE;
        int topN = Math.max(0, params.topLogprobs());
        StreamingDecoder decoder = new StreamingDecoder(tokenizer);
        StopStrings stops = new StopStrings(params.stop());
        StringBuilder text = new StringBuilder();
        int[] generated = new int[Math.min(maxTokens, ctx - prompt.length + 1)];
        int count = 0;
        int pos = prompt.length;
        FinishReason reason;
        while (true) {
            if (count == maxTokens) {
                reason = FinishReason.LENGTH;
                break;
            }
            // A grammar that is complete with nothing left to add ends the text without asking the model.
            int token = constraint != null && constraint.finished() ? -1 : sampler.sample(logits);
            if (token < 0) {
                String rest = stops.push(decoder.flush()) + stops.flush();
                if (!rest.isEmpty()) {
                    // Text a stop string held back leaves with an end-of-generation token, as at a model's own end.
                    int[] eog = tokenizer.eogTokens();
                    text.append(rest);
                    out.onToken(new GeneratedToken(eog.length > 0 ? eog[0] : 0, rest, 0f, null, null));
                }
                reason = FinishReason.STOP;
                break;
            }
            sampler.accept(token);
            // Padding rows beyond the tokenizer's vocabulary are left out by length, not by a copy.
            float logprob = Logprobs.logprob(logits, samplerVocab, token);
            int[] topIds = null;
            float[] topLogprobs = null;
            if (topN > 0) {
                topIds = new int[topN];
                topLogprobs = new float[topN];
                int n = Logprobs.top(logits, samplerVocab, topN, topIds, topLogprobs);
                topIds = Arrays.copyOf(topIds, n);
                topLogprobs = Arrays.copyOf(topLogprobs, n);
            }
            if (tokenizer.isEog(token)) {
                String rest = stops.push(decoder.flush()) + stops.flush();
                if (!rest.isEmpty()) {
                    text.append(rest);
                    out.onToken(new GeneratedToken(token, rest, logprob, topIds, topLogprobs));
                }
                reason = FinishReason.STOP;
                break;
            }
            generated[count++] = token;
            // The last token that fits carries whatever is still held back.
            boolean last = count == maxTokens || pos >= ctx;
            String piece = stops.push(decoder.accept(token));
            if (last && !stops.stopped()) piece += stops.push(decoder.flush()) + stops.flush();
            text.append(piece);
            boolean goOn = out.onToken(new GeneratedToken(token, piece, logprob, topIds, topLogprobs));
            if (stops.stopped()) {
                reason = FinishReason.STOP;
                break;
            }
            if (!goOn) {
                reason = FinishReason.CANCELLED;
                break;
            }
            if (pos >= ctx) {
                reason = FinishReason.LENGTH;
                break;
            }
            if (count == maxTokens) {
                reason = FinishReason.LENGTH;
                break;
            }
            logits = transformer.forward(token, pos);
            cached[cachedCount++] = token;
            pos++;
        }
        long end = System.nanoTime();
        return new GenerationResult(prompt.clone(), reused, Arrays.copyOf(generated, count), text.toString(), reason,
                promptDone - start, end - promptDone);
    }

    /**
     * The cached tokens that {@code prompt} starts with, short of its last token: that one always
     * runs, since the cache keeps keys and values but not logits.
     */
    @Override
    public int reusablePrefix(int[] prompt) {
        int limit = Math.min(cachedCount, prompt.length - 1);
        int n = 0;
        while (n < limit && cached[n] == prompt[n]) n++;
        // The prompt then runs in chunks from a chunk boundary, as in a new session.
        if (sameAsFresh) n = Math.min(n, freshCount) / PROMPT_CHUNK * PROMPT_CHUNK;
        return n;
    }

    @Override
    public PromptLogprobs scorePrompt(int[] prompt, int topN, GenerationListener listener) {
        if (closed) throw new IllegalStateException("session is closed");
        int ctx = transformer.contextLength();
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty");
        if (prompt.length > ctx) throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens; the context holds " + ctx);
        for (int t : prompt) {
            if (t < 0 || t >= samplerVocab) {
                throw new IllegalArgumentException("prompt token " + t + " outside the vocabulary of " + samplerVocab);
            }
        }
        int n = prompt.length;
        float[] logprobs = new float[n];
        int[][] topIds = new int[n][];
        float[][] topLogprobs = new float[n][];
        logprobs[0] = Float.NaN;
        int k = Math.max(0, topN);
        cachedCount = 0;
        freshCount = 0;
        for (int from = 0; from < n; from += PROMPT_CHUNK) {
            int count = Math.min(PROMPT_CHUNK, n - from);
            int base = from;
            transformer.scoreRows(prompt, from, count, from, (row, logits) -> {
                int next = base + row + 1;
                if (next >= n) return;
                // Padding rows beyond the tokenizer's vocabulary are left out, as when sampling.
                logprobs[next] = Logprobs.logprob(logits, samplerVocab, prompt[next]);
                int[] ids = new int[k];
                float[] lps = new float[k];
                int found = Logprobs.top(logits, samplerVocab, k, ids, lps);
                topIds[next] = Arrays.copyOf(ids, found);
                topLogprobs[next] = Arrays.copyOf(lps, found);
            });
            if (transformer.kvInHostMemory()) {
                System.arraycopy(prompt, from, cached, from, count);
                cachedCount = from + count;
            }
            if (listener != null) listener.onPromptProgress(from + count, n);
        }
        return new PromptLogprobs(logprobs, topIds, topLogprobs);
    }

    @Override
    public float[] embed(int[] tokens, Pooling pooling, GenerationListener listener) {
        if (closed) throw new IllegalStateException("session is closed");
        int ctx = transformer.contextLength();
        if (tokens.length == 0) throw new IllegalArgumentException("nothing to embed: no tokens");
        if (tokens.length > ctx) {
            throw new IllegalArgumentException("the input has " + tokens.length + " tokens; the context holds " + ctx);
        }
        for (int t : tokens) {
            if (t < 0 || t >= samplerVocab) {
                throw new IllegalArgumentException("input token " + t + " outside the vocabulary of " + samplerVocab);
            }
        }
        int dim = transformer.config().dim();
        float[] hidden = new float[Math.min(PROMPT_CHUNK, tokens.length) * dim];
        float[] pooled = new float[dim];
        cachedCount = 0;
        freshCount = 0;
        int total = tokens.length;
        for (int from = 0; from < total; from += PROMPT_CHUNK) {
            int n = Math.min(PROMPT_CHUNK, total - from);
            transformer.hiddenStates(tokens, from, n, from, hidden);
            switch (pooling) {
                case MEAN -> {
                    for (int b = 0; b < n; b++) Ops.add(pooled, 0, hidden, b * dim, dim);
                }
                case CLS -> {
                    if (from == 0) System.arraycopy(hidden, 0, pooled, 0, dim);
                }
                case LAST -> {
                    if (from + n == total) System.arraycopy(hidden, (n - 1) * dim, pooled, 0, dim);
                }
            }
            // On a device backend the device's own cache never saw these positions: nothing to reuse.
            if (transformer.kvInHostMemory()) {
                System.arraycopy(tokens, from, cached, from, n);
                cachedCount = from + n;
            }
            if (listener != null) listener.onPromptProgress(from + n, total);
        }
        if (pooling == Pooling.MEAN) Ops.scale(pooled, 0, dim, 1f / total);
        return pooled;
    }

    /** Runs the prompt tokens after the first {@code reuse} and returns the logits after the last. */
    private float[] prefill(int[] prompt, int reuse, GenerationListener listener) {
        // Chunks from a chunk boundary after fresh positions run as in a new session.
        boolean fresh = reuse % PROMPT_CHUNK == 0 && reuse <= freshCount;
        cachedCount = reuse;
        freshCount = Math.min(freshCount, reuse);
        float[] logits = null;
        int total = prompt.length;
        for (int from = reuse; from < total; from += PROMPT_CHUNK) {
            int n = Math.min(PROMPT_CHUNK, total - from);
            logits = transformer.forward(prompt, from, n, from);
            System.arraycopy(prompt, from, cached, from, n);
            cachedCount = from + n;
            if (fresh) freshCount = cachedCount;
            listener.onPromptProgress(from + n, total);
        }
        return logits;
    }

    /** Tokens whose keys and values this session holds (prompt and reply so far). */
    @Override
    public int heldTokens() {
        return cachedCount;
    }

    // A saved session: magic, version, then the model's fingerprint and the cache's shape, the token
    // count and how many of them are fresh (freshCount), the tokens, their keys and values as the
    // cache stores them, and a CRC32C of everything before it. Version 3: the keys and values kv head
    // by kv head, as the cache holds them (version 2 files, position by position, are refused as any
    // mismatch is: the prompt is computed again).
    private static final int MAGIC = 0x564b4c46; // "FLKV" little-endian
    private static final int VERSION = 3;
    private static final int HEADER_INTS = 8;

    @Override
    public boolean kvSavable() {
        return transformer.kvInHostMemory();
    }

    /** {@inheritDoc} The transformer refuses when the keys and values are on a device ({@link Transformer#kvCache}). */
    @Override
    public int[] saveKv(Path file) throws IOException {
        if (closed) throw new IllegalStateException("session is closed");
        KvCache kv = transformer.kvCache();
        int n = cachedCount;
        ByteBuffer head = ByteBuffer.allocate(4 * (HEADER_INTS + n)).order(ByteOrder.LITTLE_ENDIAN);
        head.putInt(MAGIC).putInt(VERSION).putInt(fingerprint()).putInt(kv.type().ordinal()).putInt(kv.kvDim())
                .putInt(transformer.config().layers()).putInt(n).putInt(freshCount);
        for (int i = 0; i < n; i++) head.putInt(cached[i]);
        head.flip();
        CRC32C crc = new CRC32C();
        crc.update(head.duplicate());
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (head.hasRemaining()) out.write(head);
            kv.writeTo(out, n, crc);
            ByteBuffer tail = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(crc.getValue()).flip();
            while (tail.hasRemaining()) out.write(tail);
        }
        return Arrays.copyOf(cached, n);
    }

    @Override
    public int restoreKv(Path file) throws IOException {
        if (closed) throw new IllegalStateException("session is closed");
        KvCache kv = transformer.kvCache();
        cachedCount = 0; // until the whole file checks out, the cache holds nothing usable
        freshCount = 0;
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer fixed = readFully(in, 4 * HEADER_INTS);
            if (fixed == null || fixed.getInt() != MAGIC || fixed.getInt() != VERSION || fixed.getInt() != fingerprint()
                    || fixed.getInt() != kv.type().ordinal() || fixed.getInt() != kv.kvDim()
                    || fixed.getInt() != transformer.config().layers()) {
                return -1;
            }
            int n = fixed.getInt();
            int fresh = fixed.getInt();
            if (n < 0 || n > transformer.contextLength() || in.size() != 4L * (HEADER_INTS + n) + kv.bytesFor(n) + 8) return -1;
            if (fresh < 0 || fresh > n) return -1;
            ByteBuffer tokens = readFully(in, 4 * n);
            if (tokens == null) return -1;
            CRC32C crc = new CRC32C();
            crc.update(fixed.flip());
            crc.update(tokens.duplicate());
            kv.readFrom(in, n, crc);
            ByteBuffer tail = readFully(in, 8);
            if (tail == null || tail.getLong() != crc.getValue()) return -1;
            for (int i = 0; i < n; i++) {
                int t = tokens.getInt();
                if (t < 0 || t >= samplerVocab) return -1;
                cached[i] = t;
            }
            cachedCount = n;
            freshCount = fresh;
            return n;
        }
    }

    private static ByteBuffer readFully(FileChannel in, int bytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (in.read(b) < 0) return null;
        }
        return b.flip();
    }

    /** The model's shape as a number: a save is only taken up by a session of a model of the same shape. */
    private int fingerprint() {
        return transformer.config().toString().hashCode();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            transformer.close();
        }
    }
}
