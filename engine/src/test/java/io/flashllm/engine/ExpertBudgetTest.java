package io.flashllm.engine;

import io.flashllm.engine.model.KvCacheType;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.model.Transformer;
import io.flashllm.engine.testutil.TinyModels;
import io.flashllm.engine.testutil.TinySpec;
import io.flashllm.flashstore.ModelFileException;
import io.flashllm.flashstore.budget.MemoryBudget;
import io.flashllm.flashstore.budget.MemorySize;
import io.flashllm.flashstore.bundle.BundleOpenOptions;
import io.flashllm.flashstore.bundle.PagedEmbeddings;
import io.flashllm.flashstore.ffn.DenseFeedForward;
import io.flashllm.flashstore.ffn.DenseFfnLayer;
import io.flashllm.flashstore.ffn.ExpertSlab;
import io.flashllm.flashstore.ffn.MoeFeedForward;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.flashstore.gguf.GgufTensorInfo;
import io.flashllm.kernels.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --memory-budget} on a mixture of experts served from its GGUF file: the split, the refusal of a
 * budget that cannot hold the experts a token runs in a layer, and the same logits when the budget pages experts out.
 */
class ExpertBudgetTest {
    static final int[] TOKENS = {1, 17, 250, 3, 99, 42, 42, 7, 300};
    static final int CTX = 32;

    @TempDir
    Path dir;

    /** The budget with experts paged through the page cache (no direct reads). */
    static LoadOptions options(long budget) {
        return options(budget, false, 0);
    }

    static LoadOptions options(long budget, boolean direct, int ioDepth) {
        BundleOpenOptions b = BundleOpenOptions.defaults().withOverhead(0).withMemoryBudget(budget, 0).withPreferDirect(direct)
                .withIoDepth(ioDepth);
        return LoadOptions.defaults().withThreads(2).withKvCacheType(KvCacheType.F32).withMaxContext(CTX).withBundle(b);
    }

    @Test
    void theExpertsKeepToWhatIsLeftAndTheLogitsStayTheSame() throws Exception {
        TinySpec spec = TinySpec.qwen3moe(GgmlType.F32);
        Path file = new TinyModels(spec).writeGguf(dir.resolve("q.gguf"), Map.of());
        float[][] plain;
        long resident;
        long expertBytes;
        try (LanguageModel m = ModelLoader.loadLanguageModel(file, options(0));
             Transformer t = m.newTransformer(CTX)) {
            assertNull(((MoeFeedForward) m.ffn()).residency(), "no budget, no paging out");
            plain = tokenByToken(t);
            resident = ExpertBudget.residentBytes(m.weights());
            DenseFfnLayer one = m.weights().ffn().get(0);
            expertBytes = MoeFeedForward.bytes(one);
            assertEquals(3L * spec.ffnDim() * spec.dim() * 4, expertBytes);
        }
        long kv = kvBytes(spec);
        long oneToken = expertBytes * spec.expertsUsed() * spec.layers();
        long budget = resident + kv + oneToken;
        try (LanguageModel m = ModelLoader.loadLanguageModel(file, options(budget));
             Transformer t = m.newTransformer(CTX);
             Transformer batched = m.newTransformer(CTX)) {
            var residency = ((MoeFeedForward) m.ffn()).residency();
            assertEquals(oneToken, residency.budget());
            for (int p = 0; p < TOKENS.length; p++) {
                // Paging changes where the weights are, not the arithmetic (only the threads' row split, which
                // can move the last bit of a sum).
                assertNear(plain[p], t.forward(TOKENS[p], p), "p" + p);
                assertTrue(residency.countedBytes() <= oneToken, "within the budget after each token");
            }
            assertTrue(residency.pagedOut() > 0, "six experts a layer, three fit: some were paged out");
            float[] whole = batched.forward(TOKENS, 0, TOKENS.length, 0);
            try (LanguageModel unbudgeted = ModelLoader.loadLanguageModel(file, options(0));
                 Transformer again = unbudgeted.newTransformer(CTX)) {
                assertNear(again.forward(TOKENS, 0, TOKENS.length, 0), whole, "batched");
            }
        }
    }

    /**
     * The least a budget may leave the experts is the experts a token runs in one layer. There, a token reads most of
     * its experts (through the page cache and into slots alike) and the logits stay the same; a byte less is refused,
     * naming the split and the least budget.
     */
    @Test
    void aBudgetForOneLayersExpertsRunsAndOneByteLessIsRefused() throws Exception {
        TinySpec spec = TinySpec.qwen3moe(GgmlType.Q8_0);
        Path file = new TinyModels(spec).writeGguf(dir.resolve("q8.gguf"), Map.of());
        float[][] plain;
        long least;
        try (LanguageModel m = ModelLoader.loadLanguageModel(file, options(0)); Transformer t = m.newTransformer(CTX)) {
            plain = tokenByToken(t);
            long kv = kvBytes(spec);
            least = ExpertBudget.residentBytes(m.weights()) + kv
                    + spec.expertsUsed() * MoeFeedForward.bytes(m.weights().ffn().get(0));
        }
        // A slot holds its expert's three matrices in the file's whole 4 KiB blocks around them (at most two more each):
        // direct reads at the least budget lack those, and page through the page cache instead.
        long slotsRoom = least + spec.expertsUsed() * 3 * 2 * 4096;
        for (long[] run : new long[][] {{least, 0}, {least, 1}, {slotsRoom, 1}}) {
            long budget = run[0];
            boolean askDirect = run[1] == 1;
            boolean direct = budget == slotsRoom;
            try (LanguageModel m = ModelLoader.loadLanguageModel(file, options(budget, askDirect, 2));
                 Transformer t = m.newTransformer(CTX)) {
                MoeFeedForward moe = (MoeFeedForward) m.ffn();
                assertEquals(direct, moe.slab() != null, "slots at " + budget + " with direct reads " + askDirect);
                for (int p = 0; p < TOKENS.length; p++) assertNear(plain[p], t.forward(TOKENS[p], p), direct + " p" + p);
                long lookups = 0, misses = 0, pageOuts = 0;
                for (int l = 0; l < spec.layers(); l++) {
                    lookups += moe.lookups(l);
                    misses += moe.misses(l);
                    pageOuts += moe.pageOuts(l);
                }
                // One layer's experts fit at a time: most gave way before their layer came round again (read again
                // into a slot; through the page cache, whether the pages left is the kernel's to say).
                assertTrue(pageOuts > lookups / 2, direct + ": " + pageOuts + " of " + lookups + " experts paged out");
                if (direct) assertTrue(misses > lookups / 2, misses + " of " + lookups + " experts read");
            }
        }
        ModelFileException e = assertThrows(ModelFileException.class,
                () -> ModelLoader.loadLanguageModel(file, options(least - 1)).close());
        assertTrue(e.getMessage().contains("too small for the " + spec.expertsUsed() + " experts a token runs in a layer"),
                e.getMessage());
        assertTrue(e.getMessage().contains("resident tensors") && e.getMessage().contains("KV cache"), e.getMessage());
        assertTrue(e.getMessage().contains("give it at least " + MemorySize.format(least)), e.getMessage());
    }

    /** The KV cache the budget counts for {@code spec} at {@link #CTX} positions (F32, as {@link #options} asks). */
    static long kvBytes(TinySpec spec) {
        return MemoryBudget.kvCacheBytes(spec.layers(), CTX, KvCacheType.F32.rowBytes(spec.kvHeads() * spec.headDim()));
    }

    /** The logits of {@link #TOKENS} run one at a time. */
    static float[][] tokenByToken(Transformer t) {
        float[][] logits = new float[TOKENS.length][];
        for (int p = 0; p < TOKENS.length; p++) logits[p] = t.forward(TOKENS[p], p).clone();
        return logits;
    }

    static void assertNear(float[] expected, float[] actual, String what) {
        assertNear(expected, actual, 1e-5f, what);
    }

    static void assertNear(float[] expected, float[] actual, float tolerance, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tolerance * Math.max(1f, Math.abs(expected[i])), what + " logit " + i);
        }
    }

    /**
     * With direct reads (the default) the experts a budget holds are read into slots of their own: the same logits
     * token by token and for a batch, slots given to other experts as the router moves, and every expert read from
     * the file counted.
     */
    @Test
    void expertsReadIntoSlotsGiveTheSameLogits() throws Exception {
        TinySpec spec = TinySpec.qwen3moe(GgmlType.Q8_0);
        Path file = new TinyModels(spec).writeGguf(dir.resolve("q8.gguf"), Map.of());
        float[][] plain;
        float[] plainBatch;
        long resident;
        long expertBytes;
        try (LanguageModel m = ModelLoader.loadLanguageModel(file, options(0));
             Transformer t = m.newTransformer(CTX); Transformer b = m.newTransformer(CTX)) {
            plain = tokenByToken(t);
            plainBatch = b.forward(TOKENS, 0, TOKENS.length, 0).clone();
            resident = ExpertBudget.residentBytes(m.weights());
            expertBytes = MoeFeedForward.bytes(m.weights().ffn().get(0));
        }
        long kv = kvBytes(spec);
        long budget = resident + kv + 2 * expertBytes * spec.expertsUsed() * spec.layers();
        try (LanguageModel m = ModelLoader.loadLanguageModel(file, options(budget, true, 2));
             Transformer t = m.newTransformer(CTX); Transformer b = m.newTransformer(CTX)) {
            MoeFeedForward moe = (MoeFeedForward) m.ffn();
            ExpertSlab slab = moe.slab();
            assertTrue(slab != null, "a GGUF mixture under a budget reads its experts into slots");
            assertTrue(slab.slots() >= spec.expertsUsed() && slab.slots() < spec.experts() * spec.layers(),
                    slab.slots() + " slots");
            for (int p = 0; p < TOKENS.length; p++) assertNear(plain[p], t.forward(TOKENS[p], p), "p" + p);
            assertNear(plainBatch, b.forward(TOKENS, 0, TOKENS.length, 0), "batched");
            long read = 0, released = 0;
            for (int l = 0; l < spec.layers(); l++) {
                read += moe.misses(l);
                released += moe.pageOuts(l);
            }
            assertTrue(released > 0, "the slots went round: " + released + " experts gave theirs up");
            assertEquals(read - released, moe.residency().countedBytes() / slab.slotBytes(), "each expert read holds a slot until released");
        }
        try (LanguageModel m = ModelLoader.loadLanguageModel(file, options(budget, false, 2))) {
            assertNull(((MoeFeedForward) m.ffn()).slab(), "no direct reads asked: through the page cache");
        }
    }

    /**
     * A prompt batch under a budget smaller than its experts: each layer's experts are read while the layer before
     * computes, and a second batch reads only the experts the slots cannot hold (the most recently used gave up their
     * slots, not the ones the next batch needs first), with the logits unchanged.
     */
    @Test
    void aPromptReadsAheadAndKeepsWhatTheSlotsHold() throws Exception {
        TinySpec spec = TinySpec.qwen3moe(GgmlType.Q8_0).withLayers(6);
        Path file = new TinyModels(spec).writeGguf(dir.resolve("q8.gguf"), Map.of());
        float[] plainBatch;
        long budget;
        try (LanguageModel m = ModelLoader.loadLanguageModel(file, options(0)); Transformer b = m.newTransformer(CTX)) {
            plainBatch = b.forward(TOKENS, 0, TOKENS.length, 0).clone();
            long kv = kvBytes(spec);
            budget = ExpertBudget.residentBytes(m.weights()) + kv
                    + 22 * MoeFeedForward.bytes(m.weights().ffn().get(0));
        }
        try (LanguageModel m = ModelLoader.loadLanguageModel(file, options(budget, true, 2));
             Transformer first = m.newTransformer(CTX); Transformer second = m.newTransformer(CTX)) {
            MoeFeedForward moe = (MoeFeedForward) m.ffn();
            int slots = moe.slab().slots();
            // Six layers carry the last-bit differences of the kernels (their sums' order changes as the JIT compiles
            // them between the two runs) further than two do; a wrong expert's weights move logits by whole units.
            assertNear(plainBatch, first.forward(TOKENS, 0, TOKENS.length, 0), 1e-3f, "first batch");
            long read = 0, ahead = 0;
            for (int l = 0; l < spec.layers(); l++) {
                read += moe.misses(l);
                ahead += moe.readAhead(l);
            }
            assertTrue(ahead > 0, "a prompt's next layer read while its layer ran");
            assertTrue(read >= spec.layers() * spec.experts() - 1, "the first batch reads (nearly) every expert: " + read);
            // The same batch again routes the same way. Least recently used would read every expert again (each
            // gave up its slot before the next batch came round to it); most recently used first keeps all the
            // slots hold but the layer being read ahead.
            assertNear(plainBatch, second.forward(TOKENS, 0, TOKENS.length, 0), 1e-3f, "second batch");
            long again = -read;
            for (int l = 0; l < spec.layers(); l++) again += moe.misses(l);
            assertTrue(again <= spec.layers() * spec.experts() - slots + spec.experts(),
                    again + " experts read again with " + slots + " slots");
        }
    }

    /**
     * A token embedding that is not also the output head is read a row per token: the budget charges its working set of
     * rows, not the table, and the experts get the rest (gpt-oss's table is 586 MiB of Q8_0). A tied one is the output
     * head too and is charged whole.
     */
    @Test
    void anUntiedEmbeddingIsChargedForItsWorkingRowsOnly() throws Exception {
        TinySpec spec = TinySpec.qwen3moe(GgmlType.F32).withUntiedVocab(3 * PagedEmbeddings.WORKING_ROWS);
        Path file = new TinyModels(spec).writeGguf(dir.resolve("untied.gguf"), Map.of());
        try (LanguageModel m = ModelLoader.loadLanguageModel(file, options(0))) {
            long row = (long) spec.dim() * Float.BYTES;
            assertEquals(nonExpertBytes(file) - 2L * PagedEmbeddings.WORKING_ROWS * row, ExpertBudget.residentBytes(m.weights()));
        }
        Path tied = new TinyModels(TinySpec.qwen3moe(GgmlType.F32)).writeGguf(dir.resolve("tied.gguf"), Map.of());
        try (LanguageModel m = ModelLoader.loadLanguageModel(tied, options(0))) {
            assertEquals(nonExpertBytes(tied), ExpertBudget.residentBytes(m.weights()), "tied: the table is the output head, charged whole");
        }
    }

    /** Bytes of every tensor of the file but the experts', read from the file's own index. */
    private static long nonExpertBytes(Path file) {
        long n = 0;
        try (GgufFile g = GgufFile.open(file)) {
            for (GgufTensorInfo info : g.tensorInfos()) {
                if (!info.name().contains("_exps")) n += g.tensor(info.name()).data().byteSize();
            }
        }
        return n;
    }

    @Test
    void aDenseModelFileIgnoresTheBudget() throws Exception {
        Path file = new TinyModels(TinySpec.llama(GgmlType.F32)).writeGguf(dir.resolve("l.gguf"), Map.of());
        try (LanguageModel m = ModelLoader.loadLanguageModel(file, options(1 << 20))) {
            assertInstanceOf(DenseFeedForward.class, m.ffn());
        }
    }
}
