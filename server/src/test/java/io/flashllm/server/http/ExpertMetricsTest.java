package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.model.KvCacheType;
import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthArch;
import io.flashllm.engine.synth.SynthFormat;
import io.flashllm.engine.synth.SynthSpec;
import io.flashllm.engine.synth.SynthType;
import io.flashllm.flashstore.budget.MemoryBudget;
import io.flashllm.flashstore.bundle.BundleOpenOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny Qwen3-MoE served from its GGUF file by {@code flashllm serve}'s command under a memory budget that
 * holds six of its sixteen experts: after a few completions /metrics shows experts used, paged out, and the
 * experts' share of the budget; a dense model has none of these meters.
 */
class ExpertMetricsTest {
    private static final int LAYERS = 2;
    private static final int EXPERTS = 8;
    private static final int DIM = 64;
    private static final int FFN = 128;
    private static final int CTX = 128;
    private static final long EXPERT_BYTES = 3L * DIM * FFN * Float.BYTES;

    @TempDir
    Path dir;

    @Test
    void servedMixtureOfExpertsExportsItsPaging() throws Exception {
        Map<String, Double> m = served(6, "the cat sat on the mat", "once upon a time", "experts on flash");
        double pagedOut = 0;
        for (int l = 0; l < LAYERS; l++) {
            String layer = "{layer=\"" + l + "\"}";
            double lookups = value(m, "flashllm_expert_lookups_total" + layer);
            double misses = value(m, "flashllm_expert_misses_total" + layer);
            // Each decode step of 36 uses two experts a layer; the prompts' batches count theirs once each.
            assertTrue(lookups >= 3 * 11 * 2, "layer " + l + ": lookups " + lookups);
            // Whether a paged-out expert's pages have left memory by its next use is the kernel's to say.
            assertTrue(misses >= 0 && misses <= lookups, "layer " + l + ": misses " + misses + " of " + lookups);
            pagedOut += value(m, "flashllm_expert_pageouts_total" + layer);
        }
        assertTrue(pagedOut > 0, "six of sixteen experts fit: some were paged out");
        double share = value(m, "flashllm_memory_budget_bytes{region=\"experts\"}");
        assertTrue(share >= 6 * EXPERT_BYTES, "the experts' share: " + share);
        assertTrue(value(m, "flashllm_memory_used_bytes{region=\"experts\"}") <= share);
    }

    @Test
    void aPromptBatchsExpertsReadAheadAreExported() throws Exception {
        // Slots for every expert, so a round takes a layer's all: a prompt batch that picks them all reads the next
        // layer's experts while it runs the first.
        Map<String, Double> m = served(LAYERS * EXPERTS,
                "a prompt long enough that its batch picks every expert of a layer twice over");
        assertEquals(0, value(m, "flashllm_expert_read_ahead_total{layer=\"0\"}"), "no layer runs before the first");
        double ahead = value(m, "flashllm_expert_read_ahead_total{layer=\"1\"}");
        double misses = value(m, "flashllm_expert_misses_total{layer=\"1\"}");
        assertTrue(ahead > 0, "the second layer's experts were read while the prompt ran the first");
        assertTrue(ahead <= misses, "read ahead " + ahead + " is counted in misses " + misses);
    }

    /** The tiny mixture served under a budget with room for {@code slots} experts: the scrape after {@code prompts}. */
    private Map<String, Double> served(int slots, String... prompts) throws Exception {
        Path gguf = dir.resolve("tiny-moe.gguf");
        Synth.synthesize(new SynthSpec(SynthArch.QWEN3, DIM, LAYERS, 4, 2, FFN, 512, SynthType.F32, SynthFormat.GGUF,
                5L, null, CTX, "tiny moe", 16, EXPERTS, 2), gguf);
        long kv = MemoryBudget.kvCacheBytes(LAYERS, CTX, KvCacheType.F16.rowBytes(2 * 16));
        long overhead = 1 << 20;
        // What is not an expert is at most the rest of the file (its metadata too), so the slots' room is the least left:
        // each slot an expert's three matrices in the file's whole 4 KiB blocks around them (at most two more each).
        long rest = Files.size(gguf) - LAYERS * EXPERTS * EXPERT_BYTES;
        long budget = overhead + kv + rest + slots * (EXPERT_BYTES + 3 * 2 * 4096);
        BundleOpenOptions b = BundleOpenOptions.defaults().withOverhead(overhead).withMemoryBudget(budget, 0);
        LoadOptions opts = LoadOptions.defaults().withThreads(1).withMaxContext(CTX).withBundle(b);
        return ServedMetrics.afterCompletions(cfg -> ModelLoader.load(gguf, opts), CTX, prompts);
    }

    @Test
    void aDenseModelHasNoExpertMeters() throws Exception {
        Path gguf = dir.resolve("tiny.gguf");
        Synth.synthesize(new SynthSpec(SynthArch.LLAMA, DIM, LAYERS, 4, 2, FFN, 512, SynthType.F32, SynthFormat.GGUF,
                5L, null, CTX, "tiny"), gguf);
        LoadOptions opts = LoadOptions.defaults().withThreads(1).withMaxContext(CTX);
        Map<String, Double> m = ServedMetrics.afterCompletions(cfg -> ModelLoader.load(gguf, opts), CTX, "hello");
        assertFalse(m.keySet().stream().anyMatch(k -> k.startsWith("flashllm_expert_")), "no experts, no expert meters");
    }

    private static double value(Map<String, Double> m, String key) {
        Double v = m.get(key);
        if (v == null) throw new AssertionError("no sample " + key);
        return v;
    }
}
