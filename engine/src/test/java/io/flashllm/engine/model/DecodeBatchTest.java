package io.flashllm.engine.model;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.testutil.ReferenceForward;
import io.flashllm.engine.testutil.TinyModels;
import io.flashllm.engine.testutil.TinySpec;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.kernels.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static io.flashllm.engine.model.TransformerVsReferenceTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sequences decoding at once on one model: their steps run as batches ({@link DecodeBatcher}), and
 * every sequence's logits still equal the reference forward pass of its own tokens, at its own
 * positions, over its own cache.
 */
class DecodeBatchTest {
    /**
     * Five token streams of different lengths (a batch needs {@link DecodeBatcher#MIN_ROWS}); each
     * sequence prefills its first two tokens, then decodes.
     */
    static final int[][] STREAMS = {
            {1, 17, 250, 3, 99, 42, 42, 7, 300, 5},
            {300, 2, 2, 88, 150},
            {9, 8, 7, 6, 5, 4, 3},
            {64, 65, 66, 67, 68, 69, 70, 71},
            {2, 200, 20, 120, 12, 112},
    };
    static final LoadOptions OPTIONS = TransformerVsReferenceTest.OPTIONS;

    @TempDir
    Path dir;

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("llama-f32", TinySpec.llama(GgmlType.F32)),
                Arguments.of("llama-q8_0", TinySpec.llama(GgmlType.Q8_0)),
                Arguments.of("qwen2-f16", TinySpec.qwen2(GgmlType.F16)),
                Arguments.of("mistral-window", TinySpec.llama(GgmlType.Q4_0).withWindow(3)),
                Arguments.of("llama-fatrelu", TinySpec.reluLlama(GgmlType.Q8_0, "fatrelu", 0.15f)),
                Arguments.of("opt", TinySpec.opt(GgmlType.F32, true, 64)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void eachSequenceMatchesItsReference(String label, TinySpec spec) throws Exception {
        Path file = new TinyModels(spec).writeGguf(dir.resolve(label + ".gguf"), Map.of());
        float[][][] expected = new float[STREAMS.length][][];
        try (GgufFile gguf = GgufFile.open(file)) {
            for (int s = 0; s < STREAMS.length; s++) expected[s] = new ReferenceForward(spec, gguf::tensor).run(STREAMS[s]);
        }
        try (LanguageModel model = loadWaitingLong(file)) {
            runTogether(model, expected, label);
            if (spec.opt()) {
                assertEquals(0, model.batcher().batches(), "OPT decodes one sequence at a time");
            } else {
                assertTrue(model.batcher().batchedSteps() > 0, label + ": no step ran in a batch");
            }
        }
    }

    /**
     * The model with batches that wait up to 2 s for the sequences that decoded lately (default 2
     * ms), so that on a loaded machine the streams' steps still meet in batches.
     */
    private static LanguageModel loadWaitingLong(Path file) throws Exception {
        String before = System.getProperty("flashllm.batch.waitMicros");
        System.setProperty("flashllm.batch.waitMicros", "2000000");
        try {
            return ModelLoader.loadLanguageModel(file, OPTIONS);
        } finally {
            if (before == null) System.clearProperty("flashllm.batch.waitMicros");
            else System.setProperty("flashllm.batch.waitMicros", before);
        }
    }

    /**
     * One thread per stream, each decoding as fast as it can: after the first steps every batch
     * waits for the sequences that decoded lately (the long wait above), and a stream that has
     * ended closes its sequence, which no batch then waits for.
     */
    private static void runTogether(LanguageModel model, float[][][] expected, String label) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] threads = new Thread[STREAMS.length];
        for (int s = 0; s < STREAMS.length; s++) {
            int id = s;
            threads[s] = Thread.ofPlatform().start(() -> {
                int[] tokens = STREAMS[id];
                try (Transformer t = model.newTransformer(16)) {
                    assertClose(expected[id][1], t.forward(tokens, 0, 2, 0), label + " stream " + id + " prompt");
                    for (int p = 2; p < tokens.length; p++) {
                        assertClose(expected[id][p], t.forward(tokens[p], p), label + " stream " + id + " position " + p);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
        }
        for (Thread t : threads) t.join();
        if (failure.get() instanceof AssertionError a) throw a;
        assertNull(failure.get(), () -> "a sequence failed: " + failure.get());
    }

    @Test
    void aSequenceThatStopsDoesNotStopTheOthers() throws Exception {
        TinySpec spec = TinySpec.llama(GgmlType.Q8_0);
        Path file = new TinyModels(spec).writeGguf(dir.resolve("stop.gguf"), Map.of());
        float[][] expected;
        try (GgufFile gguf = GgufFile.open(file)) {
            expected = new ReferenceForward(spec, gguf::tensor).run(STREAMS[0]);
        }
        try (LanguageModel model = ModelLoader.loadLanguageModel(file, OPTIONS);
             Transformer stays = model.newTransformer(16);
             Transformer leaves = model.newTransformer(16);
             Transformer closes = model.newTransformer(16)) {
            // All three decode in one thread's turn each, then two of them go quiet (one closed):
            // the remaining sequence's next steps wait at most once for each and then run alone.
            for (int p = 0; p < 3; p++) {
                assertClose(expected[p], stays.forward(STREAMS[0][p], p), "p" + p);
                leaves.forward(STREAMS[1][p], p);
                closes.forward(STREAMS[2][p], p);
            }
            closes.close();
            long start = System.nanoTime();
            for (int p = 3; p < STREAMS[0].length; p++) {
                assertClose(expected[p], stays.forward(STREAMS[0][p], p), "p" + p);
            }
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            // Not a timing assertion of speed: a wait for a quiet sequence on every step would be
            // 7 steps x the 2 ms wait; dropping it after one wait keeps this far below a second.
            assertTrue(waitedMs < 1_000, "steps took " + waitedMs + " ms");
            assertThrows(IllegalArgumentException.class, () -> leaves.forward(-1, 3), "a bad token fails alone");
            assertClose(expected[STREAMS[0].length - 1], stays.forward(STREAMS[0][STREAMS[0].length - 1],
                    STREAMS[0].length - 1), "after a failed step of another sequence");
        }
    }

    @Test
    void batchingCanBeTurnedOff() throws Exception {
        TinySpec spec = TinySpec.llama(GgmlType.F32);
        Path file = new TinyModels(spec).writeGguf(dir.resolve("off.gguf"), Map.of());
        String before = System.getProperty("flashllm.batchDecode");
        System.setProperty("flashllm.batchDecode", "false");
        try (LanguageModel model = ModelLoader.loadLanguageModel(file, OPTIONS)) {
            assertNull(model.batcher());
            float[][][] expected = new float[STREAMS.length][][];
            try (GgufFile gguf = GgufFile.open(file)) {
                for (int s = 0; s < STREAMS.length; s++) expected[s] = new ReferenceForward(spec, gguf::tensor).run(STREAMS[s]);
            }
            runTogether(model, expected, "unbatched");
        } finally {
            if (before == null) System.clearProperty("flashllm.batchDecode");
            else System.setProperty("flashllm.batchDecode", before);
        }
    }
}
