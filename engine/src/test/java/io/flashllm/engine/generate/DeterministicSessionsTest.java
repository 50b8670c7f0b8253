package io.flashllm.engine.generate;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.DecodeStats;
import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;
import io.flashllm.engine.testutil.TestVocab;
import io.flashllm.engine.testutil.TinyModels;
import io.flashllm.engine.testutil.TinySpec;
import io.flashllm.flashstore.bundle.ConvertOptions;
import io.flashllm.flashstore.bundle.Converter;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.cpu.Simd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model made {@link InferenceModel#deterministic() deterministic} gives every prompt exactly what a
 * new session of the plain model gives it (tokens and log-probabilities to the bit), after whatever
 * its session held and beside other sessions decoding at once. The models are Q8_0, whose prompt
 * (matrix) kernels add in another order than one token's, so a reused cache would show in the last
 * bits, and whose batched decode steps add as single ones; and Q4_0, whose batched steps do not.
 */
class DeterministicSessionsTest {
    private static final int CTX = 512;
    private static final int CHUNK = GenerationSession.PROMPT_CHUNK;

    @TempDir
    static Path dir;
    static InferenceModel plain;
    static InferenceModel deterministic;
    /** A Q4_0 model, plain and deterministic: its small batches add in another order than matvec. */
    static InferenceModel plainQ4;
    static InferenceModel deterministicQ4;

    @BeforeAll
    static void load() throws Exception {
        plain = load(GgmlType.Q8_0, false);
        deterministic = load(GgmlType.Q8_0, true);
        plainQ4 = load(GgmlType.Q4_0, false);
        deterministicQ4 = load(GgmlType.Q4_0, true);
    }

    private static InferenceModel load(GgmlType type, boolean deterministic) throws Exception {
        TinySpec spec = new TinySpec("llama", 256, 2, 512, 8, 2, 320, CTX, 1e-5f, 10000f, "silu", 0f, true, 256, false,
                false, type, 15, 0, 0, 0, 0);
        Path file = dir.resolve(type + ".gguf");
        if (!java.nio.file.Files.exists(file)) new TinyModels(spec).writeGguf(file, TestVocab.spm(320));
        InferenceModel m = ModelLoader.load(file, LoadOptions.defaults().withThreads(2).withMaxContext(CTX));
        if (deterministic) m.deterministic();
        return m;
    }

    @AfterAll
    static void close() {
        for (InferenceModel m : new InferenceModel[] {plain, deterministic, plainQ4, deterministicQ4}) m.close();
    }

    /** A generation's tokens and every log-probability, as one comparable string. */
    record Answer(GenerationResult result, String bits) {}

    private static Answer generate(Session s, int[] prompt, int maxTokens) {
        StringBuilder b = new StringBuilder();
        GenerationResult r = s.generate(prompt, new SamplingParams(0f, 0, 1f, 0f, 1f, 64, 0f, 0f, 1, maxTokens, List.of(), 3),
                t -> {
                    appendBits(b, t);
                    return true;
                });
        return new Answer(r, Arrays.toString(r.tokens()) + b);
    }

    private static void appendBits(StringBuilder b, GeneratedToken t) {
        b.append(' ').append(Float.floatToRawIntBits(t.logprob()));
        for (float lp : t.topLogprobs()) b.append(',').append(Float.floatToRawIntBits(lp));
    }

    /** What a new session of the plain model gives. */
    private static String fresh(int[] prompt, int maxTokens) {
        return fresh(plain, prompt, maxTokens);
    }

    private static String fresh(InferenceModel model, int[] prompt, int maxTokens) {
        try (Session s = model.openSession(CTX)) {
            return generate(s, prompt, maxTokens).bits();
        }
    }

    private static int[] tokens(long seed, int n) {
        Random r = new Random(seed);
        int[] t = new int[n];
        t[0] = 1;
        for (int i = 1; i < n; i++) t[i] = 3 + r.nextInt(317);
        return t;
    }

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @Test
    void aSessionReusesOnlyWholeFreshChunksAndAnswersAsANewOne() {
        int[] first = tokens(1, 120); // chunks of 64 and 56
        try (Session s = deterministic.openSession(CTX)) {
            Answer a = generate(s, first, 10);
            assertEquals(fresh(first, 10), a.bits());
            assertEquals(0, a.result().cachedPromptTokens());

            // The same prompt again: its last, short chunk runs again as it did.
            Answer again = generate(s, first, 10);
            assertEquals(a.bits(), again.bits());
            assertEquals(CHUNK, again.result().cachedPromptTokens());

            // The conversation continues with the reply: the reply was decoded token by token (its first
            // positions fill the second chunk), so it runs again with the short chunk before it, as a new
            // session runs it.
            int[] next = concat(first, again.result().tokens(), tokens(2, 30));
            Answer cont = generate(s, next, 10);
            assertEquals(fresh(next, 10), cont.bits());
            assertEquals(CHUNK, cont.result().cachedPromptTokens());

            // A prompt sharing 100 tokens with the cached one reuses the whole chunk among them.
            int[] branch = concat(Arrays.copyOf(next, 100), tokens(3, 40));
            Answer b = generate(s, branch, 8);
            assertEquals(fresh(branch, 8), b.bits());
            assertEquals(CHUNK, b.result().cachedPromptTokens());

            // A shorter prompt than what is held, and one that shares less than a chunk.
            int[] shorter = Arrays.copyOf(branch, 90);
            Answer sh = generate(s, shorter, 8);
            assertEquals(fresh(shorter, 8), sh.bits());
            assertEquals(CHUNK, sh.result().cachedPromptTokens());
            int[] little = concat(Arrays.copyOf(branch, 20), tokens(4, 50));
            Answer l = generate(s, little, 8);
            assertEquals(fresh(little, 8), l.bits());
            assertEquals(0, l.result().cachedPromptTokens());
        }
    }

    @Test
    void aPlainSessionReusesEverythingItHolds() {
        int[] first = tokens(5, 150);
        try (Session s = plain.openSession(CTX)) {
            generate(s, first, 4);
            assertEquals(first.length - 1, generate(s, first, 4).result().cachedPromptTokens());
        }
    }

    @Test
    void savedKeysAndValuesKeepWhatIsFresh(@TempDir Path tmp) throws Exception {
        int[] first = tokens(6, 140);
        Path saved = tmp.resolve("s.kv");
        try (Session s = deterministic.openSession(CTX); Session other = deterministic.openSession(CTX)) {
            Answer a = generate(s, first, 6);
            s.saveKv(saved);
            assertTrue(other.restoreKv(saved) > 0);
            Answer again = generate(other, first, 6);
            assertEquals(a.bits(), again.bits());
            assertEquals(2 * CHUNK, again.result().cachedPromptTokens());
        }
    }

    @Test
    void sessionsDecodingAtOnceAnswerAsAlone() throws Exception {
        // Q8_0's small batches add as its matvec does: its steps may still run batched.
        assertTrue(MatVec.smallBatchMatchesMatvec(GgmlType.Q8_0) || Simd.L == 4);
        decodeAtOnce(plain, deterministic);
    }

    @Test
    void sessionsOfATypeWhoseBatchesAddOtherwiseDecodeAlone() throws Exception {
        assertFalse(MatVec.smallBatchMatchesMatvec(GgmlType.Q4_0));
        long before = ((DecodeStats) deterministicQ4).decodeBatches();
        decodeAtOnce(plainQ4, deterministicQ4);
        assertEquals(before, ((DecodeStats) deterministicQ4).decodeBatches(), "no step ran batched");
    }

    /** Five sessions of {@code model} decoding at once (batched where it may) each answer as alone in {@code reference}. */
    private static void decodeAtOnce(InferenceModel reference, InferenceModel model) throws Exception {
        int streams = 5;
        int[][] prompts = new int[streams][];
        String[] alone = new String[streams];
        for (int i = 0; i < streams; i++) {
            prompts[i] = tokens(10 + i, 20 + 7 * i);
            alone[i] = fresh(reference, prompts[i], 24);
        }
        ExecutorService pool = Executors.newFixedThreadPool(streams);
        try {
            for (int round = 0; round < 2; round++) {
                List<Future<String>> answers = new ArrayList<>();
                for (int i = 0; i < streams; i++) {
                    int[] p = prompts[i];
                    answers.add(pool.submit((Callable<String>) () -> {
                        try (Session s = model.openSession(CTX)) {
                            return generate(s, p, 24).bits();
                        }
                    }));
                }
                for (int i = 0; i < streams; i++) assertEquals(alone[i], answers.get(i).get(), "stream " + i);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFlashBundleRefuses(@TempDir Path tmp) throws Exception {
        Path gguf = new TinyModels(TinySpec.reluLlama(GgmlType.F16, "relu", 0f)).writeGguf(tmp.resolve("relu.gguf"),
                TestVocab.spm(320));
        Path bundle = tmp.resolve("relu.bundle");
        Converter.convert(gguf, bundle, ConvertOptions.defaults()
                .withActivation(new FfnActivation(FfnActivation.Kind.GATED_RELU, 0f)).withMinReadBytes(4096));
        try (InferenceModel flash = ModelLoader.load(bundle, LoadOptions.defaults().withThreads(2).withMaxContext(48))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, flash::deterministic);
            assertTrue(e.getMessage().contains("neuron cache"), e.getMessage());
        }
    }
}
