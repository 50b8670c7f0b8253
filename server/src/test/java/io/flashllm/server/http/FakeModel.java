package io.flashllm.server.http;

import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.api.FinishReason;
import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationListener;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.ModelInfo;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A deterministic model for HTTP tests where timing must be controlled: one token per UTF-8 byte
 * (BOS 256, EOS 257), a reply that spells {@link #REPLY} over and over, a fixed delay per prompt
 * token (reported through onPromptProgress) and per generated token. A prompt containing "[eos]"
 * makes the reply end with EOS after 5 tokens; one containing "[fail]" makes the engine throw after 2.
 * An embedding is {token count, sum of ids, first id, last id} (pooling ignored), after the same
 * per-token delay; "[fail]" in its input makes it throw.
 * A thinking fake ({@link #thinking}) has Qwen3's tags: its chat prompt ends with an empty thinking
 * block when thinking is off, and otherwise its reply starts with {@link #THOUGHT}.
 * A fake with a chat format ({@link #format}) renders its prompts with it (tools too), thinks in its tags and calls
 * functions its way; its reply is then {@link #script}, a character a token, ending there.
 * A session remembers its last prompt and reply and skips (and reports as cached) the start of a
 * prompt that repeats them, as a real session's KV cache does.
 */
final class FakeModel implements InferenceModel {
    static final String REPLY = "Hello, world! ";
    /** What a thinking fake writes before its reply when thinking is on. */
    static final String THOUGHT = "<think>\nThey want a greeting.\n</think>\n\n";
    private static final String NO_THOUGHT = "<think>\n\n</think>\n\n";
    static final int BOS = 256;
    static final int EOS = 257;
    static final int VOCAB = 300;
    static final int EMBEDDING_LENGTH = 4;

    final long promptNanosPerToken;
    final long tokenDelayMillis;
    final int contextLength;
    final AtomicInteger generating = new AtomicInteger();
    final AtomicInteger sessionsOpen = new AtomicInteger();
    /** False: the sessions stand for a device backend's, whose keys and values cannot be saved. */
    volatile boolean kvSavable = true;
    /** True: a model that thinks before it answers (Qwen3's tags). */
    volatile boolean thinking;
    /** A real chat format the fake renders with, or null for its own plain one. */
    volatile io.flashllm.engine.chat.ChatTemplate format;
    /** The whole reply (ASCII), or null for {@link #REPLY} over and over. */
    volatile String script;
    /** The last chat prompt rendered. */
    volatile String lastPrompt;

    FakeModel(long promptNanosPerToken, long tokenDelayMillis, int contextLength) {
        this.promptNanosPerToken = promptNanosPerToken;
        this.tokenDelayMillis = tokenDelayMillis;
        this.contextLength = contextLength;
    }

    @Override
    public ModelInfo info() {
        return new ModelInfo("fake-model", "fake", contextLength, VOCAB, 1234, EMBEDDING_LENGTH, "Q8_0");
    }

    @Override
    public int[] tokenize(String text, boolean addSpecial) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int off = addSpecial ? 1 : 0;
        int[] out = new int[b.length + off];
        if (addSpecial) out[0] = BOS;
        for (int i = 0; i < b.length; i++) out[i + off] = b[i] & 0xff;
        return out;
    }

    @Override
    public String detokenize(int[] tokens) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (int t : tokens) {
            if (t < 256) o.write(t);
        }
        return o.toString(StandardCharsets.UTF_8);
    }

    @Override
    public String renderChat(List<ChatMessage> messages) {
        StringBuilder b = new StringBuilder();
        for (ChatMessage m : messages) b.append('<').append(m.role()).append('>').append(m.content()).append('\n');
        return b.append("<assistant>").toString();
    }

    @Override
    public String renderChat(List<ChatMessage> messages, boolean think) {
        return renderChat(messages) + (thinking && !think ? NO_THOUGHT : "");
    }

    /** The reasoning effort the last chat prompt was rendered with (gpt-oss's harmony states it). */
    volatile String lastEffort;

    @Override
    public String renderChat(List<ChatMessage> messages, boolean think, String effort) {
        lastEffort = effort;
        return renderChat(messages, think);
    }

    @Override
    public String renderChat(List<ChatMessage> messages, boolean think, String effort,
                             List<io.flashllm.engine.api.ChatTool> tools) {
        io.flashllm.engine.chat.ChatTemplate f = format;
        if (f == null) return InferenceModel.super.renderChat(messages, think, effort, tools);
        lastEffort = effort;
        lastPrompt = f.render(messages, true, think, effort, tools);
        return lastPrompt;
    }

    @Override
    public io.flashllm.engine.api.ToolCallFormat toolCalls() {
        io.flashllm.engine.chat.ChatTemplate f = format;
        return f == null ? InferenceModel.super.toolCalls() : f.toolCalls();
    }

    @Override
    public io.flashllm.engine.api.Reasoning reasoning() {
        io.flashllm.engine.chat.ChatTemplate f = format;
        if (f != null) return f.reasoning();
        return thinking ? io.flashllm.engine.api.Reasoning.thinkTags(false) : null;
    }

    @Override
    public Session openSession(int ctx) {
        sessionsOpen.incrementAndGet();
        return new FakeSession();
    }

    @Override
    public void close() {}

    private final class FakeSession implements Session {
        private boolean closed;
        /** The last prompt and reply, as a real session's KV cache holds them. */
        private int[] cached = new int[0];

        @Override
        public GenerationResult generate(int[] prompt, SamplingParams params, GenerationListener listener) {
            if (closed) throw new IllegalStateException("session closed");
            generating.incrementAndGet();
            try {
                return run(prompt, params, listener);
            } finally {
                generating.decrementAndGet();
            }
        }

        private GenerationResult run(int[] prompt, SamplingParams params, GenerationListener listener) {
            long t0 = System.nanoTime();
            int reused = reusablePrefix(prompt);
            for (int done = reused; done < prompt.length; ) {
                int step = Math.min(4, prompt.length - done);
                sleepNanos(promptNanosPerToken * step);
                done += step;
                listener.onPromptProgress(done, prompt.length);
            }
            long t1 = System.nanoTime();
            boolean eosEarly = detokenize(prompt).contains("[eos]");
            boolean fail = detokenize(prompt).contains("[fail]");
            String head = thinking && detokenize(prompt).endsWith("<assistant>") ? THOUGHT : "";
            String whole = script;
            int[] out = new int[params.maxTokens()];
            int n = 0;
            StringBuilder text = new StringBuilder();
            FinishReason reason = FinishReason.LENGTH;
            while (n < params.maxTokens()) {
                sleepNanos(tokenDelayMillis * 1_000_000L);
                if (fail && n == 2) throw new IllegalStateException("simulated engine fault");
                if ((eosEarly && n == 5) || (whole != null && n == whole.length())) {
                    reason = FinishReason.STOP;
                    break;
                }
                char c = whole != null ? whole.charAt(n)
                        : n < head.length() ? head.charAt(n) : REPLY.charAt((n - head.length()) % REPLY.length());
                String piece = String.valueOf(c);
                String candidate = text + piece;
                String stopHit = null;
                for (String s : params.stop()) {
                    if (candidate.contains(s)) stopHit = s;
                }
                if (stopHit != null) {
                    reason = FinishReason.STOP;
                    break;
                }
                int id = c;
                out[n++] = id;
                text.append(piece);
                int k = params.topLogprobs();
                int[] topIds = new int[k];
                float[] topLps = new float[k];
                for (int i = 0; i < k; i++) {
                    topIds[i] = i == 0 ? id : 'a' + i;
                    topLps[i] = -0.25f * (i + 1);
                }
                if (!listener.onToken(new GeneratedToken(id, piece, -0.25f, topIds, topLps))) {
                    reason = FinishReason.CANCELLED;
                    break;
                }
            }
            cached = java.util.Arrays.copyOf(prompt, prompt.length + n);
            System.arraycopy(out, 0, cached, prompt.length, n);
            return new GenerationResult(prompt, reused, java.util.Arrays.copyOf(out, n), text.toString(), reason,
                    t1 - t0, System.nanoTime() - t1);
        }

        /** Every prompt token scores -0.5, with itself as the only alternative shown. */
        @Override
        public io.flashllm.engine.api.PromptLogprobs scorePrompt(int[] prompt, int topN, GenerationListener listener) {
            float[] lps = new float[prompt.length];
            int[][] ids = new int[prompt.length][];
            float[][] tops = new float[prompt.length][];
            lps[0] = Float.NaN;
            for (int i = 1; i < prompt.length; i++) {
                lps[i] = -0.5f;
                ids[i] = topN > 0 ? new int[] {prompt[i]} : new int[0];
                tops[i] = topN > 0 ? new float[] {-0.5f} : new float[0];
            }
            if (listener != null) listener.onPromptProgress(prompt.length, prompt.length);
            cached = prompt.clone();
            return new io.flashllm.engine.api.PromptLogprobs(lps, ids, tops);
        }

        @Override
        public float[] embed(int[] tokens, io.flashllm.engine.api.Pooling pooling, GenerationListener listener) {
            if (closed) throw new IllegalStateException("session closed");
            for (int done = 0; done < tokens.length; ) {
                int step = Math.min(4, tokens.length - done);
                sleepNanos(promptNanosPerToken * step);
                done += step;
                if (listener != null) listener.onPromptProgress(done, tokens.length);
            }
            if (detokenize(tokens).contains("[fail]")) throw new IllegalStateException("simulated engine fault");
            float sum = 0;
            for (int t : tokens) sum += t;
            cached = tokens.clone();
            return new float[] {tokens.length, sum, tokens[0], tokens[tokens.length - 1]};
        }

        @Override
        public int reusablePrefix(int[] prompt) {
            return Continuation.commonStart(cached, prompt);
        }

        @Override
        public boolean kvSavable() {
            return kvSavable;
        }

        @Override
        public int heldTokens() {
            return cached.length;
        }

        /** The held tokens as little-endian ints: all a fake session's cache holds. */
        @Override
        public int[] saveKv(Path file) throws IOException {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * cached.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int t : cached) b.putInt(t);
            Files.write(file, b.array());
            return cached.clone();
        }

        @Override
        public int restoreKv(Path file) throws IOException {
            byte[] bytes = Files.readAllBytes(file);
            if (bytes.length % 4 != 0) {
                cached = new int[0];
                return -1;
            }
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            cached = new int[bytes.length / 4];
            for (int i = 0; i < cached.length; i++) cached[i] = b.getInt();
            return cached.length;
        }

        @Override
        public void close() {
            closed = true;
            sessionsOpen.decrementAndGet();
        }
    }

    private static void sleepNanos(long nanos) {
        if (nanos <= 0) return;
        try {
            Thread.sleep(nanos / 1_000_000L, (int) (nanos % 1_000_000L));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
