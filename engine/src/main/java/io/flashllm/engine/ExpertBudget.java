package io.flashllm.engine;

import io.flashllm.engine.model.FeedForwardFactory;
import io.flashllm.engine.model.LayerWeights;
import io.flashllm.engine.model.ModelConfig;
import io.flashllm.engine.model.ModelWeights;
import io.flashllm.flashstore.ModelFileException;
import io.flashllm.flashstore.budget.MemorySize;
import io.flashllm.flashstore.bundle.PagedEmbeddings;
import io.flashllm.flashstore.ffn.DenseFeedForward;
import io.flashllm.flashstore.ffn.DenseFfnLayer;
import io.flashllm.flashstore.ffn.ExpertSlab;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.flashstore.io.PageAdvice;
import io.flashllm.flashstore.ffn.MoeFeedForward;
import io.flashllm.kernels.WeightTensor;

import java.nio.file.Path;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * {@code --memory-budget} for a mixture of experts served from its model file: the budget less the tensors
 * every token uses (attention, embeddings, norms, routers), the KV caches and the runtime's reserve is what
 * the experts may take; the least active experts are paged out beyond it ({@link MoeFeedForward}).
 * A budget that cannot hold the rest and the experts a token runs in one layer is refused, naming the split; one
 * below a token's experts of all layers runs with a warning (every token then reads some).
 */
final class ExpertBudget {
    private static final System.Logger LOG = System.getLogger(ExpertBudget.class.getName());

    private ExpertBudget() {}

    /** Reads in flight when experts are read into their slab, unless the options say (1 MiB each). */
    static final int SLAB_DEPTH = 16;

    /**
     * The FFN factory for a model file: dense, or a mixture of experts within the options' memory budget. The experts
     * of a GGUF file ({@code gguf} not null) are read into DRAM of their own with direct reads ({@link ExpertSlab}),
     * unless the options ask for reads through the page cache; others are paged through the page cache.
     */
    static FeedForwardFactory factory(LoadOptions options, Path path, GgufFile gguf) {
        long total = options.bundle().memoryBudget();
        if (total <= 0) return FeedForwardFactory.DENSE;
        return (config, weights, parallel) -> {
            if (!config.experts().moe()) {
                LOG.log(System.Logger.Level.WARNING, "--memory-budget applies to flash bundles and to mixtures of"
                        + " experts; " + path + " is neither, so the kernel pages it as it likes (convert it to a"
                        + " bundle, or run it in a cgroup with a memory limit)");
                return FeedForwardFactory.DENSE.create(config, weights, parallel);
            }
            long budget = expertBudget(total, config, weights, options, path);
            // Each token's row faulted in alone, not with the readahead window around it: the budget holds only the
            // table's working set of rows.
            if (pagedPerRow(weights)) {
                WeightTensor table = weights.tokenEmbedding();
                PageAdvice.random(table.data());
                LOG.log(System.Logger.Level.INFO,
                        PagedEmbeddings.describe(table.data().byteSize() - PagedEmbeddings.chargedBytes(table)));
            }
            if (gguf == null || !options.bundle().preferDirect() || !SLAB) {
                return FeedForwardFactory.mapped(config, weights, parallel, budget);
            }
            DenseFeedForward dense = new DenseFeedForward(config.activation(), weights.ffn(), parallel);
            int depth = options.bundle().ioDepth() > 0 ? options.bundle().ioDepth() : SLAB_DEPTH;
            ExpertSlab slab = ExpertSlab.within(budget, path, t -> gguf.fileOffset(t.data()), dense, weights.ffn().size(),
                    config.experts().used(), config.experts().experts(), depth, true);
            if (slab == null) {
                // A slot takes the whole 4 KiB blocks around its matrices: a budget at the least can lack a few.
                LOG.log(System.Logger.Level.INFO, "experts: the budget holds fewer slots than the " + config.experts().used()
                        + " experts a token runs in a layer; paged through the page cache instead of read into slots");
                return FeedForwardFactory.mapped(config, weights, parallel, budget);
            }
            LOG.log(System.Logger.Level.INFO, "experts: " + slab.slots() + " slots of " + MemorySize.format(slab.slotBytes())
                    + " in DRAM, read with " + slab.describe());
            return new MoeFeedForward(config.experts(), weights.routers(), weights.routerBiases(), dense, budget, slab, parallel);
        };
    }

    /** Experts read into a slab of their own (false: paged through the page cache, as before). */
    static final boolean SLAB = Boolean.parseBoolean(System.getProperty("flashllm.moe.slab", "true"));

    static long expertBudget(long total, ModelConfig config, ModelWeights weights, LoadOptions options, Path path) {
        long resident = residentBytes(weights);
        int ctx = ModelLoader.sessionContext(config, options);
        long kv = ModelLoader.kvCacheBytes(config, options);
        long overhead = options.bundle().overheadBytes();
        long all = 0;
        long largest = 0;
        for (DenseFfnLayer e : weights.ffn()) {
            long b = MoeFeedForward.bytes(e);
            all += b;
            largest = Math.max(largest, b);
        }
        // A token runs its experts a layer at a time: one layer's must fit together. Less than all layers' then means
        // some are read every token, and activity keeps those the routers favour (ExpertResidency).
        long oneLayer = largest * config.experts().used();
        int layers = weights.routers().size();
        long oneToken = oneLayer * layers;
        long experts = total - resident - kv - overhead;
        String split = "memory budget " + MemorySize.format(total) + ": resident tensors " + MemorySize.format(resident)
                + ", KV cache " + MemorySize.format(kv) + " (" + options.sessions() + " x " + ctx + " positions), runtime "
                + MemorySize.format(overhead) + ", experts " + MemorySize.format(Math.max(0, experts)) + " of "
                + MemorySize.format(all);
        if (experts < oneLayer) {
            throw new ModelFileException(path, split + ": too small for the " + config.experts().used()
                    + " experts a token runs in a layer (" + MemorySize.format(oneLayer) + "); give it at least "
                    + MemorySize.format(total - experts + oneLayer));
        }
        LOG.log(System.Logger.Level.INFO, split + String.format(java.util.Locale.ROOT, " (%.0f%% of the experts)",
                100.0 * Math.min(experts, all) / all));
        if (experts < oneToken) {
            LOG.log(System.Logger.Level.WARNING, "the experts' share holds less than a token's experts of all "
                    + layers + " layers (" + MemorySize.format(oneToken) + "): every token reads some of them;"
                    + " a budget of " + MemorySize.format(total - experts + oneToken) + " holds them all");
        }
        return experts;
    }

    /**
     * Bytes of the tensors every token reads: all but the experts (a tied classifier counted once). A token embedding
     * that is not also the classifier is read a row per token: it is charged for its working set of rows
     * ({@link PagedEmbeddings}), the rest of the budget going to the experts (gpt-oss's table is 586 MiB).
     */
    static long residentBytes(ModelWeights w) {
        Set<WeightTensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        long n = 0;
        if (pagedPerRow(w)) {
            seen.add(w.tokenEmbedding());
            n += PagedEmbeddings.chargedBytes(w.tokenEmbedding());
        }
        for (WeightTensor t : new WeightTensor[] {w.tokenEmbedding(), w.positionEmbedding(), w.projectIn(),
                w.projectOut(), w.outputNorm(), w.outputNormBias(), w.output()}) {
            n += size(t, seen);
        }
        for (LayerWeights l : w.layers()) {
            for (WeightTensor t : new WeightTensor[] {l.attnNorm(), l.attnNormBias(), l.wq(), l.bq(), l.wk(), l.bk(),
                    l.wv(), l.bv(), l.wo(), l.bo(), l.ffnNorm(), l.ffnNormBias(), l.qNorm(), l.kNorm(),
                    l.postAttnNorm(), l.postFfnNorm(), l.sinks()}) {
                n += size(t, seen);
            }
        }
        for (WeightTensor r : w.routers()) n += size(r, seen);
        for (WeightTensor r : w.routerBiases()) n += size(r, seen);
        return n;
    }

    /** Whether the token embedding is read only a row per token (a separate classifier), so paged in per row. */
    static boolean pagedPerRow(ModelWeights w) {
        return w.tokenEmbedding() != null && !w.tiedEmbeddings();
    }

    private static long size(WeightTensor t, Set<WeightTensor> seen) {
        return t != null && seen.add(t) ? t.data().byteSize() : 0;
    }
}
