package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.budget.MemorySize;
import io.flashllm.kernels.WeightTensor;

import java.util.function.Function;

/**
 * The part of a bundle's resident file (or of a mixture of experts' model file) that the DRAM budget need not hold. The token-embedding
 * table is memory-mapped and read one row per token; when the model has a separate output head,
 * nothing else touches it, so only the rows of tokens in use are ever paged in (and, being clean
 * file pages, they are the first the kernel drops under pressure). The budget charges a working
 * set of {@link #WORKING_ROWS} rows for it instead of the whole table, which leaves the rest to the
 * neuron cache: for a 32000-token vocabulary at dim 2048 in Q8_0 that is 61 of 70 MB. A tied table
 * is the output head too, streamed every token, and stays fully charged.
 */
public final class PagedEmbeddings {
    /** Embedding rows the budget keeps room for: distinct tokens of a long conversation. */
    public static final int WORKING_ROWS = 4096;

    /** (embedding table, separate output head) name pairs of the resident formats. */
    private static final String[][] NAMES = {
            {"token_embd.weight", "output.weight"},                 // GGUF
            {"model.embed_tokens.weight", "lm_head.weight"},        // HF Llama family
            {"model.decoder.embed_tokens.weight", "lm_head.weight"} // HF OPT
    };

    private PagedEmbeddings() {}

    /**
     * Bytes of the embedding table beyond its working set, when a separate output head exists;
     * else 0. {@code tensor} returns null for a tensor the resident file does not have.
     */
    static long uncountedBytes(Function<String, WeightTensor> tensor) {
        String name = pagedTable(tensor);
        if (name == null) return 0;
        WeightTensor embeddings = tensor.apply(name);
        return embeddings.data().byteSize() - chargedBytes(embeddings);
    }

    /** The start-up line saying that a table is paged per row and how much of it the budget does not charge. */
    public static String describe(long unchargedBytes) {
        return "memory budget: token embeddings are paged in per row (the output head is separate); "
                + MemorySize.format(unchargedBytes) + " of the table are not charged, " + WORKING_ROWS + " rows are";
    }

    /** What the budget charges for a table paged per row: its working set of rows, or all of it when smaller. */
    public static long chargedBytes(WeightTensor embeddings) {
        long table = embeddings.data().byteSize();
        return Math.min(table, WORKING_ROWS * embeddings.rowBytes());
    }

    /**
     * The name of the embedding table when it is paged per row (a separate output head exists), else
     * null. {@code tensor} returns null for a tensor the resident file does not have.
     */
    static String pagedTable(Function<String, WeightTensor> tensor) {
        for (String[] pair : NAMES) {
            if (tensor.apply(pair[0]) == null) continue;
            return tensor.apply(pair[1]) == null ? null : pair[0];
        }
        return null;
    }
}
