package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.DecodeStats;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;
import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthArch;
import io.flashllm.engine.synth.SynthFormat;
import io.flashllm.engine.synth.SynthSpec;
import io.flashllm.engine.synth.SynthType;
import io.flashllm.server.config.Setting;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve --deterministic} over the real engine: every completion's text and log-probabilities
 * are, to the bit, what a new session of the same model file gives its prompt alone, for a prompt
 * sent again (its slot holds it), a conversation that goes on, and five requests at once on five
 * slots (which would otherwise decode as one batch). Q8_0's prompt kernels add in another order than
 * one token's, its batched decode steps as single ones; Q4_0's batched steps do not, so it decodes
 * one slot at a time.
 */
class DeterministicServingTest {
    private static final int CTX = 512;
    private static final int MAX_TOKENS = 16;

    @TempDir
    static Path dir;

    private static int[] tokens(long seed, int n) {
        Random r = new Random(seed);
        int[] t = new int[n];
        t[0] = 1;
        for (int i = 1; i < n; i++) t[i] = 3 + r.nextInt(500);
        return t;
    }

    /** Text and the bits of each token's log-probability: as the reference computes it, and as served. */
    private static String reference(InferenceModel plain, int[] prompt) {
        List<Float> lps = new ArrayList<>();
        try (Session s = plain.openSession(CTX)) {
            GenerationResult r = s.generate(prompt, new SamplingParams(0f, 0, 1f, 0f, 1f, 64, 0f, 0f, 1, MAX_TOKENS,
                    List.of(), 0), t -> lps.add(t.logprob()));
            return describe(r.text(), lps);
        }
    }

    private static String describe(String text, List<Float> logprobs) {
        StringBuilder b = new StringBuilder(text).append(" |");
        for (float lp : logprobs) b.append(' ').append(Float.floatToRawIntBits(lp));
        return b.toString();
    }

    private static String served(TestServer ts, int[] prompt) throws Exception {
        JsonNode c = TestServer.ok(ts.post("/v1/completions", "{\"prompt\":" + Arrays.toString(prompt) + ",\"max_tokens\":"
                + MAX_TOKENS + ",\"temperature\":0,\"logprobs\":1}")).get("choices").get(0);
        List<Float> lps = new ArrayList<>();
        for (JsonNode lp : c.get("logprobs").get("token_logprobs")) lps.add((float) lp.doubleValue());
        return describe(c.get("text").asText(), lps);
    }

    @Test
    void q8AnswersAreWhatTheModelGivesEachPromptAlone() throws Exception {
        // Q8_0's decode steps may run batched (its batches add as one sequence's steps do).
        answersAsAlone(SynthType.Q8_0);
    }

    @Test
    void q4AnswersAreWhatTheModelGivesEachPromptAloneDecodedOneAtATime() throws Exception {
        InferenceModel model = answersAsAlone(SynthType.Q4_0);
        assertEquals(0, ((DecodeStats) model).decodeBatches(), "no decode step ran batched with another");
    }

    /** Runs the requests against a served model of {@code type}; returns the (closed) served model for its counters. */
    private InferenceModel answersAsAlone(SynthType type) throws Exception {
        Path file = dir.resolve(type + ".gguf");
        Synth.synthesize(new SynthSpec(SynthArch.LLAMA, 128, 2, 4, 2, 256, 512, type, SynthFormat.GGUF,
                21L, null, CTX, "m"), file);
        LoadOptions opts = LoadOptions.defaults().withThreads(2).withMaxContext(CTX);
        try (InferenceModel plain = ModelLoader.load(file, opts); InferenceModel model = ModelLoader.load(file, opts);
             TestServer ts = new TestServer(model, Map.of(Setting.PARALLEL, 5, Setting.CTX, CTX, Setting.DETERMINISTIC, true))) {
            int[] first = tokens(1, 150);
            String alone = reference(plain, first);
            assertEquals(alone, served(ts, first));
            assertEquals(alone, served(ts, first), "the same prompt again, its slot holding it");

            // Five at once, one of them going on from the first conversation.
            int[][] prompts = new int[5][];
            prompts[0] = new int[first.length + 40];
            System.arraycopy(first, 0, prompts[0], 0, first.length);
            System.arraycopy(tokens(2, 40), 0, prompts[0], first.length, 40);
            for (int i = 1; i < 5; i++) prompts[i] = tokens(10 + i, 30 + 9 * i);
            ExecutorService pool = Executors.newFixedThreadPool(5);
            try {
                for (int round = 0; round < 2; round++) {
                    List<Future<String>> answers = new ArrayList<>();
                    for (int[] p : prompts) answers.add(pool.submit(() -> served(ts, p)));
                    for (int i = 0; i < 5; i++) assertEquals(reference(plain, prompts[i]), answers.get(i).get(), "request " + i);
                }
            } finally {
                pool.shutdownNow();
            }
            return model;
        }
    }
}
