package io.flashllm.flashstore.bundle;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PagedEmbeddingsTest {

    private static WeightTensor table(Arena arena, String name, int rows, int cols) {
        long bytes = GgmlType.Q8_0.bytesFor((long) rows * cols);
        return new WeightTensor(name, GgmlType.Q8_0, new long[] {cols, rows}, arena.allocate(bytes));
    }

    @Test
    void aSeparateHeadLeavesAllButTheWorkingRowsUncharged() {
        try (Arena arena = Arena.ofConfined()) {
            int rows = 10_000, cols = 64;
            long rowBytes = GgmlType.Q8_0.bytesFor(cols);
            Map<String, WeightTensor> gguf = new HashMap<>();
            gguf.put("token_embd.weight", table(arena, "token_embd.weight", rows, cols));
            gguf.put("output.weight", table(arena, "output.weight", rows, cols));
            assertEquals((rows - PagedEmbeddings.WORKING_ROWS) * rowBytes, PagedEmbeddings.uncountedBytes(gguf::get));

            Map<String, WeightTensor> hf = new HashMap<>();
            hf.put("model.embed_tokens.weight", table(arena, "model.embed_tokens.weight", rows, cols));
            hf.put("lm_head.weight", table(arena, "lm_head.weight", rows, cols));
            assertEquals((rows - PagedEmbeddings.WORKING_ROWS) * rowBytes, PagedEmbeddings.uncountedBytes(hf::get));
        }
    }

    @Test
    void aTiedTableASmallTableOrNoneIsChargedInFull() {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, WeightTensor> tied = Map.of("token_embd.weight", table(arena, "token_embd.weight", 10_000, 64));
            assertEquals(0, PagedEmbeddings.uncountedBytes(tied::get), "the table is the output head too");

            Map<String, WeightTensor> small = Map.of(
                    "model.decoder.embed_tokens.weight", table(arena, "e", 1000, 64),
                    "lm_head.weight", table(arena, "h", 1000, 64));
            assertEquals(0, PagedEmbeddings.uncountedBytes(small::get), "under the working set: all of it is charged");

            assertEquals(0, PagedEmbeddings.uncountedBytes(name -> null));
        }
    }
}
