package io.flashllm.flashstore.bundle;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class FfnNamesTest {
    /** The FFN-input norm is found in GGUF and Hugging Face spellings, and is null where neither exists. */
    @Test
    void ffnNormInEitherSpelling() {
        assertEquals("blk.3.ffn_norm.weight", FfnNames.ffnNorm(3, Set.of("blk.3.ffn_norm.weight")::contains));
        assertEquals("model.layers.0.post_attention_layernorm.weight",
                FfnNames.ffnNorm(0, Set.of("model.layers.0.post_attention_layernorm.weight")::contains));
        assertNull(FfnNames.ffnNorm(1, Set.of("blk.0.ffn_norm.weight")::contains));
    }
}
