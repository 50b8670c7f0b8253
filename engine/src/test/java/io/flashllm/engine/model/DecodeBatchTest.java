package io.flashllm.engine.model;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.testutil.ReferenceForward;
import io.flashllm.engine.testutil.TinyModels;
import io.flashllm.engine.testutil.TinySpec;
import io.flashllm.flashstore.ffn.BatchedFeedForward;
import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.kernels.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
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
     * sequence prefills its first two tokens, then decodes the rest, eight steps or more.
     */
    static final int[][] STREAMS = {
            {1, 17, 250, 3, 99, 42, 42, 7, 300, 5},
            {300, 2, 2, 88, 150, 4, 16, 64, 256, 1, 11},
            {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 10, 20},
            {64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76},
            {2, 200, 20, 120, 12, 112, 11, 111, 1, 101},
    };
    static final LoadOptions OPTIONS = TransformerVsReferenceTest.OPTIONS;

    @TempDir
    Path dir;

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("llama-f32", TinySpec.llama(GgmlType.F32)),
                Arguments.of("llama-q8_0", TinySpec.llama(GgmlType.Q8_0)),
                Arguments.of("qwen2-f16", TinySpec.qwen2(GgmlType.F16)),
                Arguments.of("qwen3-q8_0", TinySpec.qwen3(GgmlType.Q8_0)),
                Arguments.of("gemma3-q8_0", TinySpec.gemma3(GgmlType.Q8_0)),
                Arguments.of("gemma2-q8_0", TinySpec.gemma2(GgmlType.Q8_0)),
                Arguments.of("phi3-q8_0", TinySpec.phi3(GgmlType.Q8_0)),
                Arguments.of("qwen3moe-q8_0", TinySpec.qwen3moe(GgmlType.Q8_0)),
                Arguments.of("mixtral-q4_0", TinySpec.mixtral(GgmlType.Q4_0)),
                Arguments.of("gpt-oss-q8_0", TinySpec.gptOss(GgmlType.Q8_0)),
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
                DecodeBatcher b = model.batcher();
                assertTrue(b.batchedSteps() > 0, label + ": no step ran in a batch (" + b.batches() + " batches, "
                        + b.waitsRunOut() + " waits ran out)");
                // What the server's metrics read: passes of four to seven steps.
                assertEquals(b.batchedSteps(), model.batchedDecodeSteps());
                long passes = model.decodeBatches();
                assertTrue(passes > 0 && passes <= b.batches(), passes + " batched passes of " + b.batches());
                assertTrue(model.batchedDecodeSteps() >= (long) DecodeBatcher.MIN_ROWS * passes
                        && model.batchedDecodeSteps() <= (long) DecodeBatcher.MAX_ROWS * passes, model.batchedDecodeSteps()
                        + " steps in " + passes + " passes");
            }
            assertEquals(0, model.kvCacheBytesOpen(), "every stream closed its sequence");
        }
    }

    @Test
    void openSequencesCountTheirKvCaches() throws Exception {
        Path file = new TinyModels(TinySpec.llama(GgmlType.Q8_0)).writeGguf(dir.resolve("kv.gguf"), Map.of());
        try (LanguageModel model = ModelLoader.loadLanguageModel(file, OPTIONS)) {
            assertEquals(0, model.kvCacheBytesOpen());
            Transformer a = model.newTransformer(16), b = model.newTransformer(8);
            assertEquals(a.kvCacheBytes() + b.kvCacheBytes(), model.kvCacheBytesOpen());
            assertTrue(a.kvCacheBytes() > b.kvCacheBytes(), "sized by the context");
            a.close();
            a.close();
            assertEquals(b.kvCacheBytes(), model.kvCacheBytesOpen(), "closing twice frees once");
            b.close();
            assertEquals(0, model.kvCacheBytesOpen());
            assertEquals(0, model.decodeBatches());
        }
    }

    /**
     * The model with batches that wait up to 2 s for the sequences that decoded lately (default 2
     * ms), and an FFN that takes a millisecond longer per layer: a tiny model's step is otherwise
     * shorter than waking a thread on a loaded 2-core machine, and one thread could decode its
     * whole stream before the others are scheduled, leaving nothing to batch.
     */
    private static LanguageModel loadWaitingLong(Path file) throws Exception {
        String before = System.getProperty("flashllm.batch.waitMicros");
        System.setProperty("flashllm.batch.waitMicros", "2000000");
        try {
            return ModelLoader.loadLanguageModel(file, OPTIONS, SlowFeedForward::new);
        } finally {
            if (before == null) System.clearProperty("flashllm.batch.waitMicros");
            else System.setProperty("flashllm.batch.waitMicros", before);
        }
    }

    /** The model's own FFN (batched where it is), a millisecond slower per call. */
    private record SlowFeedForward(FeedForward inner) implements BatchedFeedForward {
        @Override
        public void forward(int layer, float[] x, float[] out) {
            pause();
            inner.forward(layer, x, out);
        }

        @Override
        public void forwardBatch(int layer, float[] x, int batch, float[] out) {
            pause();
            if (!(inner instanceof BatchedFeedForward b)) throw new IllegalStateException("the model's FFN takes no batch");
            b.forwardBatch(layer, x, batch, out);
        }

        @Override
        public void close() {
            inner.close();
        }

        private static void pause() {
            LockSupport.parkNanos(1_000_000);
        }
    }

    /**
     * One thread per stream; all start decoding together once every prompt has run, then each
     * decodes as fast as it can: after the first steps every batch waits for the sequences that
     * decoded lately (the long wait above), and a stream that has ended closes its sequence, which
     * no batch then waits for.
     */
    private static void runTogether(LanguageModel model, float[][][] expected, String label) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch prompted = new CountDownLatch(STREAMS.length);
        Thread[] threads = new Thread[STREAMS.length];
        for (int s = 0; s < STREAMS.length; s++) {
            int id = s;
            threads[s] = Thread.ofPlatform().start(() -> {
                int[] tokens = STREAMS[id];
                try (Transformer t = model.newTransformer(16)) {
                    try {
                        assertClose(expected[id][1], t.forward(tokens, 0, 2, 0), label + " stream " + id + " prompt");
                    } finally {
                        prompted.countDown();
                    }
                    prompted.await();
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
             Transformer leaves = model.newTransformer(16)) {
            Transformer closes = model.newTransformer(16);
            try {
                // All three decode in turn on this thread (each step waits for the others, which
                // cannot come, and runs alone), then two go quiet, one of them closed: the quiet one
                // costs the remaining sequence at most one more wait, the closed one none.
                for (int p = 0; p < 3; p++) {
                    assertClose(expected[p], stays.forward(STREAMS[0][p], p), "p" + p);
                    leaves.forward(STREAMS[1][p], p);
                    closes.forward(STREAMS[2][p], p);
                }
            } finally {
                closes.close();
            }
            long before = model.batcher().waitsRunOut();
            for (int p = 3; p < STREAMS[0].length; p++) {
                assertClose(expected[p], stays.forward(STREAMS[0][p], p), "p" + p);
            }
            long waits = model.batcher().waitsRunOut() - before;
            assertTrue(waits <= 1, waits + " waits ran out over " + (STREAMS[0].length - 3) + " steps");
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
            assertEquals(0, model.decodeBatches());
            assertEquals(0, model.batchedDecodeSteps());
        } finally {
            if (before == null) System.clearProperty("flashllm.batchDecode");
            else System.setProperty("flashllm.batchDecode", before);
        }
    }
}
