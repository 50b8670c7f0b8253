package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.cache.NeuronCache;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.flashstore.io.IoEngine;
import io.flashllm.flashstore.select.DenseSelector;
import io.flashllm.flashstore.select.GateExactSelector;
import io.flashllm.flashstore.select.NeuronSelector;
import io.flashllm.flashstore.select.Selection;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bundle-mode FFN output against the plain FFN computed from the source model, for the dense and
 * gate-exact selectors, with a cache large enough for everything and with one so small that
 * neurons are evicted and streamed. Tolerance: see {@link ReferenceFfn}.
 */
class BundleFeedForwardTest {
    @TempDir
    Path tmp;

    static final FfnActivation RELU = new FfnActivation(FfnActivation.Kind.GATED_RELU, 0);
    static final FfnActivation SILU = new FfnActivation(FfnActivation.Kind.GATED_SILU, 0);

    static List<GgmlType> types() {
        return TinyModel.ffnTypes();
    }

    @ParameterizedTest
    @MethodSource("types")
    void gateExactAndDenseMatchPlainFfn(GgmlType type) throws IOException {
        TinyModel tm = new TinyModel(2, 64, 128, type, true, 11);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, RELU, 8192);
        for (String sel : List.of("gate-exact", "dense")) {
            try (BundleModel bm = BundleModel.open(out, BundleOpenOptions.defaults().withSelector(sel));
                 GgufFile g = GgufFile.open(src)) {
                assertEquals(sel, bm.feedForward().selector().name());
                runTokens(bm.feedForward(), g, RELU, type.quantized(), 6, 64);
                long lookups = bm.feedForward().counters(0).lookups();
                if (sel.equals("dense")) assertEquals(6 * 128, lookups);
                else assertTrue(lookups < 6 * 128 && lookups > 0, "gate-exact selects a subset: " + lookups);
            }
        }
    }

    static List<GgmlType> kTypes() {
        return TinyModel.kTypes();
    }

    @ParameterizedTest
    @MethodSource("kTypes")
    void kQuantsGateExactAndDenseOnParallelPool(GgmlType type) throws IOException {
        TinyModel tm = new TinyModel(1, 256, 256, type, true, 31);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = tmp.resolve("b");
        Converter.convert(src, out, ConvertOptions.defaults().withActivation(RELU));
        try (io.flashllm.kernels.Parallel p = io.flashllm.kernels.Parallel.create(3); GgufFile g = GgufFile.open(src)) {
            for (String sel : List.of("gate-exact", "dense")) {
                try (BundleModel bm = BundleModel.open(out, BundleOpenOptions.defaults().withSelector(sel))) {
                    BundleFeedForward f = bm.feedForward(p);
                    assertSame(f, bm.feedForward(p));
                    assertThrows(IllegalStateException.class, () -> bm.feedForward(null), "one pool per FFN");
                    runTokens(f, g, RELU, true, 3, 256);
                }
            }
        }
    }

    /** Layers whose down matrices differ in type (Q5_K_M's fallbacks with 96 neurons) compute as the plain FFN. */
    @Test
    void mixedDownTypesMatchPlainFfn() throws IOException {
        TinyModel tm = new TinyModel(2, 256, 96, GgmlType.Q5_K, true, 41).withDownTypes(GgmlType.Q5_1, GgmlType.Q8_0);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, RELU, 8192);
        for (String sel : List.of("gate-exact", "dense")) {
            try (BundleModel bm = BundleModel.open(out, BundleOpenOptions.defaults().withSelector(sel));
                 GgufFile g = GgufFile.open(src)) {
                runTokens(bm.feedForward(), g, RELU, true, 4, 256);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("types")
    void tinyCacheEvictsAndStreamsButStaysExact(GgmlType type) throws IOException {
        TinyModel tm = new TinyModel(2, 64, 128, type, true, 5);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, SILU, 4096);
        try (GgufFile g = GgufFile.open(src);
             BundleFeedForward ffn = openDirect(out, SILU, null, new DenseSelector(),
                     BundleFfnOptions.unlimited(128).withCache(40, 8).withStreamRows(16).withHotWarmup(2).withWindow(2))) {
            runTokens(ffn, g, SILU, type.quantized(), 8, 64);
            assertEquals(40, ffn.cache(0).used(), "dense fills the cache");
            assertEquals(8, ffn.cache(0).hotCount(), "hot region chosen after warm-up");
            assertTrue(ffn.counters(0).neuronsLoaded() > 128, "streamed neurons are read again each token");
        }
    }

    /** After a warm-up the hot region is released and chosen again from the tokens that follow. */
    @Test
    void forgetActivityReleasesTheHotRegionUntilNewTokensChooseIt() throws IOException {
        TinyModel tm = new TinyModel(2, 64, 128, GgmlType.Q8_0, true, 5);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, SILU, 4096);
        try (GgufFile g = GgufFile.open(src);
             BundleFeedForward ffn = openDirect(out, SILU, null, new DenseSelector(),
                     BundleFfnOptions.unlimited(128).withCache(40, 8).withStreamRows(16).withHotWarmup(2).withWindow(2))) {
            runTokens(ffn, g, SILU, true, 3, 64);
            assertEquals(8, ffn.cache(0).hotCount());
            ffn.forgetActivity();
            assertEquals(0, ffn.cache(0).hotCount(), "the warm-up's hot region is released");
            assertEquals(40, ffn.cache(0).used(), "cached rows stay");
            assertEquals(0, ffn.cache(0).activationCount(ffn.cache(0).idAt(0)));
            runTokens(ffn, g, SILU, true, 1, 64);
            assertEquals(0, ffn.cache(0).hotCount(), "one counted token is below the warm-up of 2");
            runTokens(ffn, g, SILU, true, 1, 64);
            assertEquals(8, ffn.cache(0).hotCount(), "chosen again from the tokens after the reset");
        }
    }

    /**
     * The hot region is chosen again every warm-up's worth of tokens from the counts so far: neurons
     * that were frequent only in the first tokens give their pinned rows to those that fire more
     * often later, and the window then evicts them like any idle neuron.
     */
    @Test
    void theHotRegionFollowsTheNeuronsThatKeepFiring() throws IOException {
        TinyModel tm = new TinyModel(1, 64, 128, GgmlType.Q8_0, true, 5);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, SILU, 4096);
        int[] token = {0};
        NeuronSelector phases = new NeuronSelector() {
            @Override public String name() { return "phases"; }
            @Override public boolean needsResidentGate() { return false; }
            @Override public void select(int layer, float[] x, Selection sel) {
                // Tokens 0-3 use neurons 0-15, every later token neurons 100-115.
                int first = token[0]++ < 4 ? 0 : 100;
                for (int n = first; n < first + 16; n++) sel.add(n);
            }
        };
        try (BundleFeedForward ffn = openDirect(out, SILU, null, phases,
                BundleFfnOptions.unlimited(128).withCache(40, 8).withStreamRows(16).withHotWarmup(2).withWindow(2))) {
            float[] x = TinyModel.gaussian(new Random(3), 64, 1f), y = new float[64];
            NeuronCache cache = ffn.cache(0);
            for (int t = 0; t < 4; t++) ffn.forward(0, x, y);
            assertEquals(8, cache.hotCount());
            for (int r = 0; r < 8; r++) assertTrue(cache.idAt(r) < 16, "the first tokens' neurons are hot");
            for (int t = 0; t < 12; t++) ffn.forward(0, x, y);
            assertEquals(8, cache.hotCount());
            for (int r = 0; r < 8; r++) {
                assertTrue(cache.idAt(r) >= 100, "row " + r + " holds neuron " + cache.idAt(r) + ", idle for 12 tokens");
            }
            for (int n = 0; n < 16; n++) assertEquals(-1, cache.rowOf(n), "neuron " + n + " left with the window");
        }
    }

    @Test
    void gateExactWithSmallCacheAndWindow() throws IOException {
        TinyModel tm = new TinyModel(1, 64, 256, GgmlType.Q8_0, true, 9);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, RELU, 4096);
        try (GgufFile g = GgufFile.open(src); GgufFile res = GgufFile.open(out.resolve(BundleFormat.RESIDENT_GGUF))) {
            List<WeightTensor> gates = gates(res, 1);
            try (BundleFeedForward ffn = openDirect(out, RELU, gates, new GateExactSelector(gates, RELU),
                    BundleFfnOptions.unlimited(256).withCache(100, 0).withStreamRows(7).withWindow(3))) {
                runTokens(ffn, g, RELU, true, 10, 64);
                assertTrue(ffn.counters(0).hits() > 0, "window reuse gives hits");
            }
        }
    }

    /**
     * Gate-exact knows every gate value, so the window is a floor: neurons past it stay while the
     * cache has room and later requests for them are hits, with the plain FFN's output; with the floor
     * off (as for a selector that computes every cached row) the window evicts them.
     */
    @Test
    void gateExactKeepsNeuronsPastTheWindowWhileTheCacheHasRoom() throws IOException {
        TinyModel tm = new TinyModel(1, 64, 256, GgmlType.Q8_0, true, 9);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, RELU, 4096);
        try (GgufFile g = GgufFile.open(src); GgufFile res = GgufFile.open(out.resolve(BundleFormat.RESIDENT_GGUF))) {
            List<WeightTensor> gates = gates(res, 1);
            int[] used = new int[2];
            long[] hits = new long[2];
            for (boolean floor : new boolean[] {true, false}) {
                try (BundleFeedForward ffn = openDirect(out, RELU, gates, new GateExactSelector(gates, RELU),
                        BundleFfnOptions.unlimited(256).withStreamRows(7).withWindow(1).withWindowFloor(floor))) {
                    assertEquals(floor, ffn.cache(0).keepsPastWindow());
                    runTokens(ffn, g, RELU, true, 12, 64);
                    used[floor ? 0 : 1] = ffn.cache(0).used();
                    hits[floor ? 0 : 1] = ffn.counters(0).hits();
                    if (floor) assertEquals(0, ffn.counters(0).evictions(), "with room, nothing leaves");
                }
            }
            assertTrue(used[0] > used[1], "cached after 12 tokens: " + used[0] + " with the floor, " + used[1] + " without");
            assertTrue(hits[0] > hits[1], "hits: " + hits[0] + " with the floor, " + hits[1] + " without");
        }
    }

    /**
     * Choosing gate-exact neurons in ranges, each range's misses read while the next is chosen,
     * gives the plain FFN's output and the same selection as choosing them all at once, also when
     * the cache has fewer rows than a token's misses and the stream buffer holds one neuron (every
     * other miss finishes the rounds in flight); with the cache making room by activity (the
     * default) and least recently used.
     */
    @Test
    void gateExactInChunksMatchesWholeLayerSelection() throws IOException {
        TinyModel tm = new TinyModel(2, 64, 256, GgmlType.Q8_0, true, 13);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, RELU, 4096);
        try (GgufFile g = GgufFile.open(src); GgufFile res = GgufFile.open(out.resolve(BundleFormat.RESIDENT_GGUF))) {
            List<WeightTensor> gates = gates(res, 2);
            for (int halfLife : new int[] {BundleFfnOptions.DEFAULT_HALF_LIFE, 0}) {
                for (int[] shape : new int[][] {{120, 4, 64}, {12, 2, 1}}) {
                    long[] lookups = new long[3];
                    long[] hits = new long[3];
                    int[] chunks = {1, 4, 7};
                    for (int i = 0; i < chunks.length; i++) {
                        try (BundleFeedForward ffn = openDirect(out, RELU, gates, new GateExactSelector(gates, RELU),
                                BundleFfnOptions.unlimited(256).withCache(shape[0], shape[1]).withHotWarmup(2)
                                        .withStreamRows(shape[2]).withWindow(3).withSelectChunks(chunks[i]).withHalfLife(halfLife))) {
                            runTokens(ffn, g, RELU, true, 8, 64);
                            lookups[i] = ffn.counters(0).lookups() + ffn.counters(1).lookups();
                            hits[i] = ffn.counters(0).hits() + ffn.counters(1).hits();
                            assertTrue(ffn.counters(0).neuronsLoaded() > 0);
                            if (chunks[i] == 1) assertEquals(0, ffn.chunkedSteps());
                            else assertTrue(ffn.chunkedSteps() >= 8, "ranges used: " + ffn.chunkedSteps() + " of 16 steps");
                            assertEquals(shape[0], ffn.cache(0).used(), "the cache fills");
                        }
                    }
                    assertEquals(lookups[0], lookups[1], "same neurons selected");
                    assertEquals(lookups[0], lookups[2], "same neurons selected");
                    assertTrue(hits[1] > 0 && hits[2] > 0, "cached neurons are reused: " + java.util.Arrays.toString(hits));
                }
            }
        }
    }

    /**
     * On a pool, each range's reads are submitted by the FFN's thread inside the next gate product
     * (Parallel.overlapNext) or the cached rows' products: the same neurons are selected as on the
     * calling thread alone and the output is the plain FFN's, with worker-thread reads and with
     * native AIO where the kernel has it.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void gateExactInChunksOnAPoolMatchesTheCallerAlone(boolean aio) throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(!aio || IoEngine.nativeAioAvailable(),
                "native AIO unavailable");
        TinyModel tm = new TinyModel(2, 64, 256, GgmlType.Q8_0, true, 13);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, RELU, 4096);
        BundleFfnOptions o = BundleFfnOptions.unlimited(256).withCache(120, 4).withHotWarmup(2).withStreamRows(16)
                .withWindow(3).withSelectChunks(4);
        try (GgufFile g = GgufFile.open(src); GgufFile res = GgufFile.open(out.resolve(BundleFormat.RESIDENT_GGUF))) {
            List<WeightTensor> gates = gates(res, 2);
            long alone;
            try (BundleFeedForward ffn = openDirect(out, RELU, gates, new GateExactSelector(gates, RELU), o)) {
                runTokens(ffn, g, RELU, true, 8, 64);
                alone = ffn.counters(0).lookups() + ffn.counters(1).lookups();
            }
            try (io.flashllm.kernels.Parallel p = io.flashllm.kernels.Parallel.create(2);
                 BundleFeedForward ffn = openDirect(out, RELU, gates, new GateExactSelector(gates, RELU, p), o,
                         new IoEngine(8, 1 << 20, aio), p)) {
                runTokens(ffn, g, RELU, true, 8, 64);
                assertTrue(ffn.chunkedSteps() >= 8, "ranges used: " + ffn.chunkedSteps());
                assertTrue(ffn.counters(0).neuronsLoaded() > 0);
                assertEquals(alone, ffn.counters(0).lookups() + ffn.counters(1).lookups(), "same neurons selected");
                assertFalse(p.dropPending(), "no submission left waiting for a loop");
            }
        }
    }

    /**
     * A damaged group read in a later range fails the token with the error, and the neurons of that
     * round leave the cache: once the file is repaired the next tokens are exact again, so no row
     * kept what a failed read left in it.
     */
    @Test
    void failedRoundInChunksLeavesNoBadRows() throws IOException {
        TinyModel tm = new TinyModel(1, 64, 256, GgmlType.Q8_0, true, 17);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, RELU, 4096);
        Path layer = out.resolve(BundleFormat.layerFile(0));
        List<Long> damaged = groupBytes(layer, 0.5);
        try (GgufFile g = GgufFile.open(src); GgufFile res = GgufFile.open(out.resolve(BundleFormat.RESIDENT_GGUF))) {
            List<WeightTensor> gates = gates(res, 1);
            try (BundleFeedForward ffn = openDirect(out, RELU, gates, new GateExactSelector(gates, RELU),
                    BundleFfnOptions.unlimited(256).withCache(200, 0).withWindow(100).withSelectChunks(4))) {
                flip(layer, damaged);
                float[] x = TinyModel.gaussian(new Random(3), 64, 1f);
                BundleException e = assertThrows(BundleException.class, () -> ffn.forward(0, x, new float[64]));
                assertTrue(e.getMessage().contains("layer-000.bin"), e.getMessage());
                assertTrue(ffn.cache(0).used() > 0, "the rounds read before the damaged one keep their rows");
                for (int r = 0; r < ffn.cache(0).used(); r++) {
                    assertTrue(ffn.cache(0).idAt(r) < 128, "only neurons of the undamaged half stay cached");
                }
                flip(layer, damaged);
                runTokens(ffn, g, RELU, true, 4, 64);
            }
        }
    }

    /**
     * A read-ahead that hits a damaged group fails the next layer's step with the file named, and
     * leaves none of its rows in the cache; once the file is repaired every token is exact again.
     */
    @Test
    void failedReadAheadFailsTheNextLayerAndLeavesNoRows() throws IOException {
        TinyModel tm = new TinyModel(2, 64, 256, GgmlType.Q8_0, true, 19);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, RELU, 4096);
        Path layer1 = out.resolve(BundleFormat.layerFile(1));
        List<Long> damaged = groupBytes(layer1, 0);
        try (GgufFile g = GgufFile.open(src); GgufFile res = GgufFile.open(out.resolve(BundleFormat.RESIDENT_GGUF))) {
            List<WeightTensor> gates = gates(res, 2);
            try (BundleFeedForward ffn = openDirect(out, RELU, gates, guessing(gates),
                    BundleFfnOptions.unlimited(256).withCache(100, 0).withPrefetchGuesses(16))) {
                flip(layer1, damaged);
                float[] x = TinyModel.gaussian(new Random(3), 64, 1f);
                ffn.forward(0, x, new float[64]);
                assertTrue(ffn.guessedReads() > 0, "layer 1 was read ahead");
                BundleException e = assertThrows(BundleException.class, () -> ffn.forward(1, x, new float[64]));
                assertTrue(e.getMessage().contains("layer-001.bin"), e.getMessage());
                assertEquals(0, ffn.cache(1).used(), "no row of the failed read-ahead stays");
                flip(layer1, damaged);
                runTokens(ffn, g, RELU, true, 4, 64);
            }
        }
    }

    /**
     * Gate-exact's guess is a second gate product per layer: with no guesses to read
     * ({@code prefetchGuesses} 0) it is never computed and nothing is read ahead, and with guesses it
     * is computed only while the layer waits on flash ({@code guessPays}).
     */
    @Test
    void theGuessIsComputedOnlyWhenItCanPay() throws IOException {
        TinyModel tm = new TinyModel(2, 64, 256, GgmlType.Q8_0, true, 23);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, RELU, 4096);
        try (GgufFile g = GgufFile.open(src); GgufFile res = GgufFile.open(out.resolve(BundleFormat.RESIDENT_GGUF))) {
            List<WeightTensor> gates = gates(res, 2);
            int[] hints = new int[1];
            GateExactSelector exact = guessing(gates);
            NeuronSelector counting = new NeuronSelector() {
                @Override public String name() { return exact.name(); }
                @Override public void select(int layer, float[] x, Selection sel) { exact.select(layer, x, sel); }
                @Override public boolean needsResidentGate() { return true; }
                @Override public boolean guessesGateValues() { return exact.guessesGateValues(); }
                @Override public boolean prefetchHint(int nextLayer, float[] x, Selection sel) {
                    hints[0]++;
                    return exact.prefetchHint(nextLayer, x, sel);
                }
            };
            for (int guesses : new int[]{0, 16}) {
                hints[0] = 0;
                try (BundleFeedForward ffn = openDirect(out, RELU, gates, counting,
                        BundleFfnOptions.unlimited(256).withCache(100, 0).withPrefetchGuesses(guesses).withGuessPays(0))) {
                    runTokens(ffn, g, RELU, true, 4, 64);
                    if (guesses == 0) {
                        assertEquals(0, hints[0], "no hint computed");
                        assertEquals(0, ffn.guessedReads(), "nothing read ahead");
                    } else {
                        assertEquals(4, hints[0], "a hint at layer 1 every token");
                    }
                }
            }
            // A cache that holds every neuron leaves nothing to wait for: after the first guess, which
            // measures what a guess costs, none is worth its gate product. With ratio 0 every token guesses.
            for (double pays : new double[]{BundleFfnOptions.DEFAULT_GUESS_PAYS, 0}) {
                hints[0] = 0;
                try (BundleFeedForward ffn = openDirect(out, RELU, gates, counting,
                        BundleFfnOptions.unlimited(256).withPrefetchGuesses(16).withGuessPays(pays))) {
                    // The first token's reads fade from the layer's recent wait over some tokens.
                    int tokens = 0, quiet = 0;
                    while (quiet < 8 && tokens < (pays == 0 ? 20 : 400)) {
                        int before = hints[0];
                        runTokens(ffn, g, RELU, true, 1, 64);
                        tokens++;
                        quiet = hints[0] == before ? quiet + 1 : 0;
                    }
                    if (pays == 0) assertEquals(tokens, hints[0], "a guess at layer 1 every token");
                    else assertEquals(8, quiet, "no guess once the layer stops waiting (" + tokens + " tokens)");
                }
            }
        }
    }

    /** The first {@code layers} gate matrices of a bundle's resident file. */
    private static List<WeightTensor> gates(GgufFile res, int layers) {
        List<WeightTensor> gates = new ArrayList<>();
        for (int l = 0; l < layers; l++) gates.add(res.tensor("blk." + l + ".ffn_gate.weight"));
        return gates;
    }

    /** Gate-exact with a guess at the next layer, every layer's FFN norm weights 1 (the guess is the gate on this input). */
    private static GateExactSelector guessing(List<WeightTensor> gates) {
        float[] ones = new float[Math.toIntExact(gates.get(0).cols())];
        java.util.Arrays.fill(ones, 1f);
        return new GateExactSelector(gates, RELU, null, java.util.Collections.nCopies(gates.size(), ones));
    }

    /** One byte inside each neuron group of a layer file, from the {@code from} share of its groups on. */
    private static List<Long> groupBytes(Path layer, double from) throws IOException {
        List<Long> offsets = new ArrayList<>();
        try (FfnFile f = FfnFile.open(layer, false)) {
            int groups = f.layout().groupCount();
            for (int grp = (int) (groups * from); grp < groups; grp++) offsets.add(f.groupOffset(grp) + 3);
        }
        return offsets;
    }

    private static void flip(Path f, List<Long> offsets) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            for (long off : offsets) {
                b.clear();
                ch.read(b, off);
                b.flip();
                b.put(0, (byte) (b.get(0) ^ 0x5a));
                ch.write(b, off);
            }
        }
    }

    @Test
    void prefetchReadsNextLayerAheadAndChangesNothing() throws IOException {
        TinyModel tm = new TinyModel(3, 64, 128, GgmlType.Q4_0, true, 17);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, SILU, 4096);
        try (GgufFile g = GgufFile.open(src);
             BundleFeedForward on = openDirect(out, SILU, null, new DenseSelector(), BundleFfnOptions.unlimited(128).withPrefetch(true));
             BundleFeedForward off = openDirect(out, SILU, null, new DenseSelector(), BundleFfnOptions.unlimited(128).withPrefetch(false))) {
            runTokens(on, g, SILU, true, 2, 64);
            runTokens(off, g, SILU, true, 2, 64);
            // Layer 0 of the first token misses everything either way; layers 1 and 2 were read ahead.
            assertEquals(128, on.counters(0).hits(), "layer 0: second token hits");
            assertEquals(2 * 128, on.counters(1).hits(), "layer 1 found every neuron already read ahead");
            assertEquals(128, off.counters(1).hits(), "without read-ahead only the second token hits");
            assertEquals(128, on.counters(1).neuronsLoaded());
        }
    }

    /**
     * gate-exact's guess at the next layer reads neurons ahead into free rows and, once the cache is
     * full, in place of the least active ones (by activity and least recently used): every output
     * stays exact, the same neurons are looked up, and no guess is read with the option at 0.
     */
    @Test
    void guessedReadAheadChangesNothing() throws IOException {
        TinyModel tm = new TinyModel(3, 64, 256, GgmlType.Q8_0, true, 29);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, RELU, 4096);
        Random r = new Random(3);
        List<float[]> norms = new ArrayList<>();
        for (int l = 0; l < 3; l++) {
            float[] w = new float[64];
            for (int i = 0; i < 64; i++) w[i] = 0.5f + r.nextFloat();
            norms.add(w);
        }
        norms.getFirst()[5] = 0f;
        try (GgufFile g = GgufFile.open(src); GgufFile res = GgufFile.open(out.resolve(BundleFormat.RESIDENT_GGUF))) {
            List<WeightTensor> gates = gates(res, 3);
            for (int halfLife : new int[] {BundleFfnOptions.DEFAULT_HALF_LIFE, 0}) {
                for (int[] shape : new int[][] {{256, 0, 64}, {120, 4, 64}, {20, 2, 1}}) {
                    long[] lookups = new long[2];
                    for (int guesses : new int[] {0, 16}) {
                        BundleFfnOptions o = BundleFfnOptions.unlimited(256).withCache(shape[0], shape[1]).withHotWarmup(2)
                                .withStreamRows(shape[2]).withWindow(3).withHalfLife(halfLife).withPrefetchGuesses(guesses)
                                .withGuessPays(0);
                        try (BundleFeedForward ffn = openDirect(out, RELU, gates, new GateExactSelector(gates, RELU, null, norms), o)) {
                            runTokens(ffn, g, RELU, true, 8, 64);
                            String what = "half-life " + halfLife + ", cache " + shape[0] + ", guesses " + guesses;
                            if (guesses == 0) assertEquals(0, ffn.guessedReads(), what);
                            else assertTrue(ffn.guessedReads() > 16, what + ": read ahead " + ffn.guessedReads());
                            if (shape[0] < 256) assertEquals(shape[0], ffn.cache(1).used(), what + ": the cache fills");
                            for (int l = 0; l < 3; l++) lookups[guesses == 0 ? 0 : 1] += ffn.counters(l).lookups();
                        }
                    }
                    assertEquals(lookups[0], lookups[1], "the same neurons are selected");
                }
            }
        }
    }

    @Test
    void memoryBudgetSizesTheCacheOrRefuses() throws IOException {
        TinyModel tm = new TinyModel(2, 64, 128, GgmlType.Q8_0, true, 23);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, RELU, 4096);
        long resident = java.nio.file.Files.size(out.resolve(BundleFormat.RESIDENT_GGUF));
        long rowBytes = 2 * GgmlType.Q8_0.bytesFor(64); // up + down per cached neuron (gates are resident)
        long io = 2L * (1 << 20);
        long stream = 1024 * rowBytes;
        long kv = 10_000;
        long fixed = resident + kv + io + stream;
        BundleOpenOptions o = BundleOpenOptions.defaults().withIoDepth(2).withOverhead(0).withHotFraction(0.25);
        var e = assertThrows(io.flashllm.flashstore.budget.BudgetException.class,
                () -> BundleModel.open(out, o.withMemoryBudget(fixed - 1, kv)));
        assertTrue(e.getMessage().contains("cannot hold the resident part"), e.getMessage());
        long budget = fixed + 2 * 50 * rowBytes + 100; // room for 50 rows per layer
        try (BundleModel bm = BundleModel.open(out, o.withMemoryBudget(budget, kv)); GgufFile g = GgufFile.open(src)) {
            assertEquals(50, bm.budget().cacheRowsPerLayer());
            assertEquals(12, bm.budget().hotRowsPerLayer());
            assertEquals(50, bm.feedForward().cache(0).capacity());
            runTokens(bm.feedForward(), g, RELU, true, 5, 64);
            assertTrue(bm.budget().describe().contains("window neuron cache"));
        }
    }

    /** A budget that holds everything but the gates reads them from flash per layer, with results unchanged. */
    @Test
    void aBudgetBelowTheResidentGatesStreamsThemAndStaysExact() throws IOException {
        TinyModel tm = new TinyModel(4, 256, 1024, GgmlType.Q8_0, true, 31);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, RELU, 4096);
        long resident = java.nio.file.Files.size(out.resolve(BundleFormat.RESIDENT_GGUF));
        long gate = GgmlType.Q8_0.bytesFor(256L * 1024);
        long rowBytes = 2 * GgmlType.Q8_0.bytesFor(256);
        long io = 2L * (1 << 20);
        long stream = 1024 * rowBytes;
        long kv = 10_000;
        long fixed = resident + kv + io + stream;
        long buffers = GateStream.bufferBytes(4, GateStream.spanBound(gate));
        BundleOpenOptions o = BundleOpenOptions.defaults().withIoDepth(2).withOverhead(0).withHotFraction(0.25);
        try (BundleModel whole = BundleModel.open(out, o.withMemoryBudget(fixed + 100 * 4 * rowBytes, kv))) {
            assertNull(whole.gateStream(), "the gates fit: resident");
            assertEquals(0, whole.budget().streamedGates());
            // The embedding table is the output head too (tied): held, like everything else here.
            assertEquals(List.of(), whole.paging().leftOnFlash());
            assertEquals(residentTensorBytes(whole), whole.paging().readAheadBytes());
            assertTrue(residentMappingFlags(out).contains(" rr"), "no read-around: " + residentMappingFlags(out));
        }
        try (BundleModel unbudgeted = BundleModel.open(out, o)) {
            assertFalse(unbudgeted.paging().advised(), "no budget: paged as the kernel sees fit");
            assertFalse(residentMappingFlags(out).contains(" rr"), residentMappingFlags(out));
        }
        try (BundleModel bm = BundleModel.open(out, o.withMemoryBudget(fixed - 1, kv)); GgufFile g = GgufFile.open(src)) {
            assertNotNull(bm.gateStream(), "the gates do not fit: streamed");
            assertEquals(buffers, bm.budget().streamedGates());
            assertEquals(fixed - 4 * gate, bm.budget().resident() + kv + io + stream);
            assertTrue(bm.budget().describe().contains("gate buffers"), bm.budget().describe());
            // The streamed gates stay on flash; the rest is read ahead, and no
            // fault reads around into the gates beside a layer's attention.
            assertEquals(List.of("blk.0.ffn_gate.weight", "blk.1.ffn_gate.weight", "blk.2.ffn_gate.weight",
                    "blk.3.ffn_gate.weight"), bm.paging().leftOnFlash());
            assertEquals(residentTensorBytes(bm) - 4 * gate, bm.paging().readAheadBytes());
            ResidentOffsets.assertEachTensorAtItsOffset(ResidentPaging.tensors(out.resolve(BundleFormat.RESIDENT_GGUF), bm.gguf(), null));
            assertTrue(residentMappingFlags(out).contains(" rr"), "no read-around: " + residentMappingFlags(out));
            int rows = bm.budget().cacheRowsPerLayer();
            assertTrue(rows > 0 && rows < 1024, "rows " + rows);
            runTokens(bm.feedForward(), g, RELU, true, 5, 256);
            // Gate reads count as the layer's flash reads: a round of gates alone (no neuron is read)
            // adds at least three gates' bytes (four layers in two buffers: each is read again).
            long before = 0, after = 0;
            for (int l = 0; l < 4; l++) before += bm.feedForward().counters(l).bytesRead();
            for (int l = 0; l < 4; l++) bm.gateStream().acquire(l);
            bm.gateStream().acquire(0); // waits for the read-ahead of layer 0
            for (int l = 0; l < 4; l++) after += bm.feedForward().counters(l).bytesRead();
            assertTrue(after - before >= 3 * gate, "gate bytes counted: " + (after - before));
        }
        var e = assertThrows(io.flashllm.flashstore.budget.BudgetException.class,
                () -> BundleModel.open(out, o.withMemoryBudget(fixed - 4 * gate + buffers - 1, kv)));
        assertTrue(e.getMessage().contains("reading the gate matrices from flash per layer would still need"), e.getMessage());
    }

    /**
     * Under a budget, when the process may lock memory, the resident tensors the budget holds are
     * locked (mlock) and the headroom kept for their re-reads goes to the neuron cache; unmapping them
     * unlocks them. Turned off, or where the process may not lock, the budget keeps the headroom.
     */
    @Test
    void aBudgetLocksTheResidentTensorsAndGivesTheirHeadroomToTheCache() throws IOException {
        TinyModel tm = new TinyModel(2, 256, 1024, GgmlType.Q8_0, true, 37);
        Path out = convert(tm.write(tmp.resolve("m.gguf")), RELU, 4096);
        long resident = java.nio.file.Files.size(out.resolve(BundleFormat.RESIDENT_GGUF));
        long overhead = 64L << 20, kv = 10_000;
        long rowBytes = 2 * GgmlType.Q8_0.bytesFor(256);
        long fixed = resident + kv + 2L * (1 << 20) + 1024 * rowBytes; // resident, KV, I/O and stream buffers
        // Unlocked, room for 100 rows a layer; locked, the whole FFN (1,024 neurons a layer) fits.
        BundleOpenOptions o = BundleOpenOptions.defaults().withIoDepth(2).withOverhead(overhead).withHotFraction(0.25)
                .withMemoryBudget(fixed + overhead + 2 * 100 * rowBytes + 100, kv);
        long lockedBefore = lockedKiB();
        boolean permitted = io.flashllm.flashstore.io.MemoryLock.permitted(resident);
        int rowsLocked;
        try (BundleModel bm = BundleModel.open(out, o)) {
            rowsLocked = bm.budget().cacheRowsPerLayer();
            if (permitted) {
                assertEquals(overhead - io.flashllm.flashstore.budget.RuntimeOverhead.LOCKED_SAVING, bm.budget().overhead());
                assertEquals(residentTensorBytes(bm), bm.paging().lockedBytes());
                assertTrue((lockedKiB() - lockedBefore) * 1024 >= bm.paging().lockedBytes(),
                        "VmLck grew by " + (lockedKiB() - lockedBefore) + " KiB for " + bm.paging().lockedBytes() + " bytes");
                assertTrue(bm.paging().describe().contains("locked in memory"), bm.paging().describe());
            } else {
                assertEquals(overhead, bm.budget().overhead());
                assertEquals(0, bm.paging().lockedBytes());
            }
        }
        assertEquals(lockedBefore, lockedKiB(), "closing the bundle unmaps, and so unlocks, its pages");
        System.setProperty(io.flashllm.flashstore.io.MemoryLock.PROPERTY, "false");
        try (BundleModel bm = BundleModel.open(out, o)) {
            assertEquals(overhead, bm.budget().overhead());
            assertEquals(0, bm.paging().lockedBytes());
            assertEquals(lockedBefore, lockedKiB());
            assertEquals(100, bm.budget().cacheRowsPerLayer());
            if (permitted) assertEquals(1024, rowsLocked, "the headroom went to the cache");
        } finally {
            System.clearProperty(io.flashllm.flashstore.io.MemoryLock.PROPERTY);
        }
        // A budget past what the process may use (its cgroup's limit, or the machine's memory) is not
        // locked: the kernel must be able to evict, or the cgroup kills the process instead of paging.
        long limit = io.flashllm.flashstore.io.MemoryLock.processMemoryLimit();
        try (BundleModel bm = BundleModel.open(out, o.withMemoryBudget(limit, kv))) {
            assertEquals(overhead, bm.budget().overhead());
            assertEquals(0, bm.paging().lockedBytes());
            assertEquals(lockedBefore, lockedKiB());
        }
    }

    /** This process's locked memory in KiB ({@code VmLck} of /proc/self/status). */
    private static long lockedKiB() throws IOException {
        for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmLck:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new AssertionError("no VmLck in /proc/self/status");
    }

    private static long residentTensorBytes(BundleModel bm) {
        long n = 0;
        for (var info : bm.gguf().tensorInfos()) n += bm.gguf().tensor(info.name()).data().byteSize();
        return n;
    }

    /** The kernel's flags of this process's mappings of the bundle's resident file ({@code rr}: random reads, no read-around). */
    private static String residentMappingFlags(Path bundle) throws IOException {
        String file = bundle.resolve(BundleFormat.RESIDENT_GGUF).toRealPath().toString();
        StringBuilder flags = new StringBuilder();
        boolean in = false;
        for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) in = line.endsWith(file);
            else if (in && line.startsWith("VmFlags:")) flags.append(line.substring(8)).append(" |");
        }
        return flags.toString();
    }

    /** Read buffers: whole groups per read; 1 MiB per thread, 4 MiB in all with native AIO. */
    @Test
    void maxReadBytesKeepsGroupsWholeAndBuffersBounded() {
        assertEquals(32 << 10, BundleModel.maxReadBytes(8 << 10, 128, true));
        assertEquals(32 << 10, BundleModel.maxReadBytes(32 << 10, 128, true));
        assertEquals(64 << 10, BundleModel.maxReadBytes(64 << 10, 128, true), "never less than one group");
        assertEquals(1 << 20, BundleModel.maxReadBytes(8 << 10, 2, true), "at most 1 MiB per read");
        assertEquals(1 << 20, BundleModel.maxReadBytes(8 << 10, 16, false));
        assertEquals(12288 * 85, BundleModel.maxReadBytes(12288, 16, false), "a whole number of groups");
    }

    /**
     * The automatic native-AIO depth: 256 reads in flight where one-neuron groups (`--min-read 4K`:
     * 8 KiB for a 2048-wide Q8_0 neuron) keep the buffers within 4 MiB, 128 for larger groups.
     */
    @Test
    void automaticDepthIsDeeperForSmallGroupsWithinTheSameBuffers() {
        assertEquals(256, BundleOpenOptions.autoNativeAioDepth(8 << 10));
        assertEquals(256, BundleOpenOptions.autoNativeAioDepth(16 << 10));
        assertEquals(128, BundleOpenOptions.autoNativeAioDepth(32 << 10));
        assertEquals(128, BundleOpenOptions.autoNativeAioDepth(1 << 20));
        for (long g : new long[] {4 << 10, 8 << 10, 16 << 10, 32 << 10}) {
            int depth = BundleOpenOptions.autoNativeAioDepth(g);
            assertTrue((long) depth * BundleModel.maxReadBytes((int) g, depth, true) <= Math.max(4L << 20, 128 * g),
                    "buffers of " + g + "-byte groups at depth " + depth);
        }
    }

    /** Reading through gaps of unwanted groups merges reads; results are unchanged. Files on ext4 are read with O_DIRECT. */
    @Test
    void coalescingThroughGapsIsExactAndMergesReads() throws IOException {
        TinyModel tm = new TinyModel(1, 64, 256, GgmlType.F16, true, 29);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, RELU, 4096);
        try (GgufFile g = GgufFile.open(src); GgufFile res = GgufFile.open(out.resolve(BundleFormat.RESIDENT_GGUF))) {
            List<WeightTensor> gates = gates(res, 1);
            long[] reads = new long[2];
            for (int gap = 0; gap <= 1; gap++) {
                try (BundleFeedForward ffn = openDirect(out, RELU, gates, new GateExactSelector(gates, RELU),
                        BundleFfnOptions.unlimited(256).withCoalesceGap(gap * 4).withWindow(1))) {
                    runTokens(ffn, g, RELU, false, 4, 64);
                    reads[gap] = ffn.counters(0).reads();
                }
            }
            assertTrue(reads[1] < reads[0], "gaps read through: " + reads[1] + " reads vs " + reads[0]);
        }
        try (FfnFile f = FfnFile.open(out.resolve(BundleFormat.layerFile(0)), true)) {
            if (java.nio.file.Files.getFileStore(out).type().equals("ext4")) assertTrue(f.blockFile().direct(), "O_DIRECT on ext4");
        }
    }

    /** Neurons pinned from a list (e.g. calibration statistics) are loaded, held in the hot prefix and never evicted. */
    @Test
    void pinnedHotNeuronsSurviveTheWindow() throws IOException {
        TinyModel tm = new TinyModel(1, 64, 128, GgmlType.Q8_0, true, 37);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, RELU, 4096);
        try (GgufFile g = GgufFile.open(src); GgufFile res = GgufFile.open(out.resolve(BundleFormat.RESIDENT_GGUF))) {
            List<WeightTensor> gates = gates(res, 1);
            try (BundleFeedForward ffn = openDirect(out, RELU, gates, new GateExactSelector(gates, RELU),
                    BundleFfnOptions.unlimited(128).withCache(64, 8).withWindow(1).withHotWarmup(1_000_000))) {
                int[] hot = {3, 17, 40, 41, 90, 127};
                assertEquals(6, ffn.pinHot(0, hot));
                assertEquals(6, ffn.cache(0).hotCount());
                runTokens(ffn, g, RELU, true, 6, 64);
                for (int n : hot) {
                    int row = ffn.cache(0).rowOf(n);
                    assertTrue(row >= 0 && row < 6, "neuron " + n + " still in the hot prefix");
                }
            }
        }
    }

    /**
     * A batch (prompt) reads the union of its tokens' neurons once; each token's output equals the
     * plain FFN's, whether the union fits the cache or streams through it in rounds, and a token
     * decoded after a streamed batch (using the rows kept for the batch's last token) is right too.
     */
    @ParameterizedTest
    @MethodSource("types")
    void batchEqualsPlainFfnPerToken(GgmlType type) throws IOException {
        TinyModel tm = new TinyModel(2, 64, 128, type, true, 41);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, RELU, 4096);
        try (GgufFile g = GgufFile.open(src); GgufFile res = GgufFile.open(out.resolve(BundleFormat.RESIDENT_GGUF))) {
            List<WeightTensor> gates = gates(res, 2);
            // union fits / does not fit (streams, in one round or in many)
            for (int[] rowsAndStream : new int[][] {{128, 1024}, {20, 1024}, {20, 8}}) {
                int rows = rowsAndStream[0];
                float[] norm0 = new float[64], norm1 = new float[64];
                java.util.Arrays.fill(norm0, 1f);
                java.util.Arrays.fill(norm1, 0.5f);
                // the second gate-exact also reads the next layer's neurons ahead on its guess
                GateExactSelector guessing = new GateExactSelector(gates, RELU, null, List.of(norm0, norm1));
                for (NeuronSelector sel : List.of(new GateExactSelector(gates, RELU), guessing, new DenseSelector())) {
                    try (BundleFeedForward ffn = openDirect(out, RELU, gates, sel, BundleFfnOptions.unlimited(128)
                            .withCache(rows, 0).withStreamRows(rowsAndStream[1]).withPrefetchGuesses(8)
                            .withGuessPays(0))) {
                        Random r = new Random(7);
                        int batch = 5;
                        // the second pass starts with rows the first one kept in the cache
                        for (int pass = 0; pass < 2; pass++) {
                            for (int l = 0; l < 2; l++) {
                                assertBatchMatches(ffn, g, RELU, type.quantized(), l, batch, r, sel.name() + " rows " + rows);
                            }
                        }
                        assertEquals(rows == 128 ? 2 : 2 * batch, ffn.cache(0).step(),
                                "a batch that fits is one windowing step, a streamed one as many as its tokens");
                        if (rows == 20 && sel instanceof GateExactSelector) {
                            assertTrue(ffn.cache(0).used() > 0, "the last token's neurons were kept");
                        }
                        // (a streamed batch reads nothing ahead: the rows the next layer's last token used are kept)
                        if (sel == guessing && rows == 128) assertTrue(ffn.guessedReads() > 0, "read ahead after the batches");
                        for (int l = 0; l < 2; l++) {
                            float[] x = TinyModel.gaussian(r, 64, 1f);
                            float[] o = new float[64];
                            ffn.forward(l, x, o);
                            ReferenceFfn ref = ReferenceFfn.compute(g, l, RELU, x, type.quantized());
                            for (int i = 0; i < 64; i++) {
                                assertEquals(ref.out[i], o[i], ref.tolerance[i], sel.name() + " rows " + rows + " after the batch");
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * A SiLU model whose gates live in the bundles, so a batch's rows go through matrix products
     * over the batch (gate and up rows times every token, the down rows added into every output):
     * the union fits the cache, or streams beside a hot region in one round or in many; batches
     * below and above the panel kernel's smallest batch. Every token equals the plain FFN.
     */
    @ParameterizedTest
    @MethodSource("types")
    void batchOverBundledGatesEqualsPlainFfnPerToken(GgmlType type) throws IOException {
        TinyModel tm = new TinyModel(2, 64, 128, type, true, 43);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = convert(src, SILU, 4096);
        try (GgufFile g = GgufFile.open(src)) {
            for (int[] cfg : new int[][] {{128, 0, 1024}, {128, 32, 1024}, {40, 8, 1024}, {40, 8, 16}}) {
                try (BundleFeedForward ffn = openDirect(out, SILU, null, new DenseSelector(), BundleFfnOptions.unlimited(128)
                        .withCache(cfg[0], cfg[1]).withStreamRows(cfg[2]))) {
                    Random r = new Random(11);
                    for (int batch : new int[] {3, 12}) {
                        for (int l = 0; l < 2; l++) {
                            assertBatchMatches(ffn, g, SILU, type.quantized(), l, batch, r, type + " cache " + cfg[0]
                                    + " hot " + cfg[1] + " stream " + cfg[2] + " batch " + batch);
                        }
                    }
                    runTokens(ffn, g, SILU, type.quantized(), 2, 64); // decode goes on from what the batches cached
                }
            }
        }
    }

    /** An ungated FFN with up and down biases, through a batch: the biases ride along in the batched products. */
    @Test
    void optStyleBatchWithBiases() throws IOException {
        TinyModel tm = new TinyModel(2, 64, 96, GgmlType.F16, false, 17);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = tmp.resolve("b");
        Converter.convert(src, out, ConvertOptions.defaults().withMinReadBytes(4096));
        FfnActivation relu = new FfnActivation(FfnActivation.Kind.RELU_NO_GATE, 0);
        try (BundleModel bm = BundleModel.open(out, BundleOpenOptions.defaults()); GgufFile g = GgufFile.open(src)) {
            Random r = new Random(5);
            for (int l = 0; l < 2; l++) assertBatchMatches(bm.feedForward(), g, relu, false, l, 9, r, "layer " + l);
        }
    }

    @Test
    void optStyleUngatedWithBiases() throws IOException {
        TinyModel tm = new TinyModel(2, 64, 96, GgmlType.F16, false, 13);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = tmp.resolve("b");
        ConvertReport rep = Converter.convert(src, out, ConvertOptions.defaults().withMinReadBytes(4096));
        assertFalse(rep.gateResident());
        FfnActivation relu = new FfnActivation(FfnActivation.Kind.RELU_NO_GATE, 0);
        try (BundleModel bm = BundleModel.open(out, BundleOpenOptions.defaults()); GgufFile g = GgufFile.open(src)) {
            assertEquals("dense", bm.feedForward().selector().name());
            assertEquals(relu, bm.activation());
            runTokens(bm.feedForward(), g, relu, false, 4, 64);
        }
    }

    /** Converts {@code src} into bundle directory "b" with the given activation and smallest read. */
    private Path convert(Path src, FfnActivation act, int minReadBytes) throws IOException {
        Path out = tmp.resolve("b");
        Converter.convert(src, out, ConvertOptions.defaults().withActivation(act).withMinReadBytes(minReadBytes));
        return out;
    }

    static BundleFeedForward openDirect(Path out, FfnActivation act, List<WeightTensor> gates, NeuronSelector sel,
                                        BundleFfnOptions o) {
        return openDirect(out, act, gates, sel, o, new IoEngine(4, 1 << 20), null);
    }

    /** As above, reading through {@code io} (owned by the FFN) and computing on {@code pool} (null: the caller alone). */
    static BundleFeedForward openDirect(Path out, FfnActivation act, List<WeightTensor> gates, NeuronSelector sel,
                                        BundleFfnOptions o, IoEngine io, io.flashllm.kernels.Parallel pool) {
        Manifest m = Manifest.read(out);
        List<FfnFile> files = new ArrayList<>();
        for (String f : m.layout().layerFiles()) files.add(FfnFile.open(out.resolve(f), true));
        return new BundleFeedForward(files, gates, null, null, act, sel, o, io, true, pool);
    }

    /** One batch of random 64-wide activations through layer {@code l}: every token equals the plain FFN. */
    static void assertBatchMatches(BundleFeedForward ffn, GgufFile src, FfnActivation act, boolean q8Down, int l, int batch,
                                   Random r, String what) {
        float[] x = TinyModel.gaussian(r, batch * 64, 1f);
        float[] o = new float[batch * 64];
        ffn.forwardBatch(l, x, batch, o);
        for (int b = 0; b < batch; b++) {
            ReferenceFfn ref = ReferenceFfn.compute(src, l, act, java.util.Arrays.copyOfRange(x, b * 64, b * 64 + 64), q8Down);
            for (int i = 0; i < 64; i++) assertEquals(ref.out[i], o[b * 64 + i], ref.tolerance[i], what + " token " + b);
        }
    }

    static void runTokens(BundleFeedForward ffn, GgufFile src, FfnActivation act, boolean q8Down, int tokens, int dim) {
        Random r = new Random(42);
        float[] out = new float[dim];
        for (int t = 0; t < tokens; t++) {
            for (int l = 0; l < ffn.layers(); l++) {
                float[] x = TinyModel.gaussian(r, dim, 1f);
                ffn.forward(l, x, out);
                ReferenceFfn ref = ReferenceFfn.compute(src, l, act, x, q8Down);
                for (int i = 0; i < dim; i++) {
                    assertEquals(ref.out[i], out[i], ref.tolerance[i], "token " + t + " layer " + l + " output " + i);
                }
            }
        }
    }
}
