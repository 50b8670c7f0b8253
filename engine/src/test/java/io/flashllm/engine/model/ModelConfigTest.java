package io.flashllm.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashllm.flashstore.ModelFileException;
import io.flashllm.flashstore.ffn.FfnActivation;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelConfigTest {
    static final Path FILE = Path.of("m.gguf");

    static Map<String, Object> llamaMetadata() {
        Map<String, Object> m = new HashMap<>();
        m.put("general.architecture", "llama");
        m.put("general.name", "TinyLlama");
        m.put("llama.embedding_length", 2048L);
        m.put("llama.block_count", 22L);
        m.put("llama.feed_forward_length", 5632L);
        m.put("llama.attention.head_count", 32L);
        m.put("llama.attention.head_count_kv", 4L);
        m.put("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        m.put("llama.rope.freq_base", 10000f);
        m.put("llama.rope.dimension_count", 64L);
        m.put("llama.context_length", 2048L);
        return m;
    }

    @Test
    void ggufLlama() {
        ModelConfig c = GgufConfigs.fromMetadata(llamaMetadata(), FILE);
        assertEquals(Architecture.LLAMA, c.architecture());
        assertEquals("TinyLlama", c.name());
        assertEquals(2048, c.dim());
        assertEquals(22, c.layers());
        assertEquals(64, c.headDim());
        assertEquals(8, c.groupSize());
        assertEquals(256, c.kvDim());
        assertEquals(RopeStyle.INTERLEAVED, c.rope().style());
        assertEquals(FfnActivation.Kind.GATED_SILU, c.activation().kind());
        assertNull(c.rope().freqFactors());
    }

    @Test
    void ggufReluLlamaAndLinearRope() {
        Map<String, Object> m = llamaMetadata();
        m.put("flashllm.ffn.activation", "fatrelu");
        m.put("flashllm.ffn.fatrelu_threshold", 0.01f);
        m.put("llama.rope.scaling.type", "linear");
        m.put("llama.rope.scaling.factor", 4f);
        ModelConfig c = GgufConfigs.fromMetadata(m, FILE);
        assertEquals(new FfnActivation(FfnActivation.Kind.GATED_FATRELU, 0.01f), c.activation());
        assertEquals(4f, c.rope().linearFactor());
        assertEquals(1f / 4f, c.rope().inverseFrequencies()[0], 1e-7);
    }

    @Test
    void ggufQwen2RotatesHalfSplit() {
        Map<String, Object> m = new HashMap<>();
        llamaMetadata().forEach((k, v) -> m.put(k.replace("llama.", "qwen2."), v));
        m.put("general.architecture", "qwen2");
        ModelConfig c = GgufConfigs.fromMetadata(m, FILE);
        assertEquals(Architecture.QWEN2, c.architecture());
        assertEquals(RopeStyle.HALF_SPLIT, c.rope().style());
    }

    @Test
    void ggufQwen3HeadsWiderThanTheStream() {
        Map<String, Object> m = new HashMap<>();
        llamaMetadata().forEach((k, v) -> m.put(k.replace("llama.", "qwen3."), v));
        m.put("general.architecture", "qwen3");
        m.put("qwen3.embedding_length", 1024);
        m.put("qwen3.attention.head_count", 16);
        m.put("qwen3.attention.head_count_kv", 8);
        m.put("qwen3.attention.key_length", 128);
        m.put("qwen3.attention.value_length", 128);
        m.put("qwen3.rope.dimension_count", 128);
        ModelConfig c = GgufConfigs.fromMetadata(m, FILE);
        assertEquals(Architecture.QWEN3, c.architecture());
        assertEquals(RopeStyle.HALF_SPLIT, c.rope().style());
        assertEquals(128, c.headDim());
        assertEquals(2048, c.qDim());
        assertEquals(1024, c.kvDim());
    }

    /** Gemma 3 1B's keys as llama.cpp writes them. */
    static Map<String, Object> gemma3Metadata(int layers) {
        Map<String, Object> m = new HashMap<>();
        m.put("general.architecture", "gemma3");
        m.put("gemma3.embedding_length", 1152L);
        m.put("gemma3.block_count", (long) layers);
        m.put("gemma3.feed_forward_length", 6912L);
        m.put("gemma3.attention.head_count", 4L);
        m.put("gemma3.attention.head_count_kv", 1L);
        m.put("gemma3.attention.key_length", 256L);
        m.put("gemma3.attention.value_length", 256L);
        m.put("gemma3.attention.sliding_window", 512L);
        m.put("gemma3.attention.layer_norm_rms_epsilon", 1e-6f);
        m.put("gemma3.rope.freq_base", 1000000f);
        m.put("gemma3.context_length", 32768L);
        return m;
    }

    @Test
    void ggufGemma3() {
        ModelFileException e;
        ModelConfig c = GgufConfigs.fromMetadata(gemma3Metadata(26), FILE);
        assertEquals(Architecture.GEMMA3, c.architecture());
        assertEquals(FfnActivation.Kind.GATED_GELU, c.activation().kind(), "GELU without naming it");
        assertEquals(RopeStyle.HALF_SPLIT, c.rope().style());
        assertEquals(512, c.windowOf(0));
        assertEquals(0, c.windowOf(5), "every sixth layer is global");
        assertEquals(512, c.windowOf(6));
        assertEquals(10000f, c.ropeOf(0).theta());
        assertEquals(1e6f, c.ropeOf(5).theta());
        assertEquals(1 / 16f, c.attentionScale(), 1e-7, "1/sqrt(head width 256)");
        // The 27B (62 layers) was trained with 1/sqrt(dim / heads), as llama.cpp has it.
        Map<String, Object> big = gemma3Metadata(62);
        big.put("gemma3.embedding_length", 5376L);
        big.put("gemma3.attention.head_count", 32L);
        big.put("gemma3.attention.head_count_kv", 16L);
        big.put("gemma3.attention.key_length", 128L);
        big.put("gemma3.attention.value_length", 128L);
        assertEquals((float) (1 / Math.sqrt(168)), GgufConfigs.fromMetadata(big, FILE).attentionScale(), 1e-7);
        // Ollama's own files: the bases under their names, the layers marked one by one (true: windowed).
        Map<String, Object> ollama = gemma3Metadata(12);
        ollama.remove("gemma3.rope.freq_base");
        ollama.put("gemma3.rope.global.freq_base", 500000f);
        ollama.put("gemma3.rope.local.freq_base", 20000f);
        java.util.List<Boolean> pattern = new java.util.ArrayList<>();
        for (int l = 0; l < 12; l++) pattern.add((l + 1) % 4 != 0);
        ollama.put("gemma3.attention.sliding_window_pattern", pattern);
        ModelConfig o = GgufConfigs.fromMetadata(ollama, FILE);
        assertEquals(500000f, o.ropeOf(3).theta());
        assertEquals(20000f, o.ropeOf(2).theta());
        assertEquals(0, o.windowOf(3));
        assertEquals(512, o.windowOf(4));
        pattern.set(0, false);
        e = assertThrows(ModelFileException.class, () -> GgufConfigs.fromMetadata(ollama, FILE));
        assertTrue(e.getMessage().contains("sliding_window_pattern"), e.getMessage());
        Map<String, Object> noWindow = gemma3Metadata(26);
        noWindow.remove("gemma3.attention.sliding_window");
        e = assertThrows(ModelFileException.class, () -> GgufConfigs.fromMetadata(noWindow, FILE));
        assertTrue(e.getMessage().contains("gemma3.attention.sliding_window"), e.getMessage());
    }

    /** gpt-oss-20b's metadata as llama.cpp's converter writes it. */
    static Map<String, Object> gptOssMetadata() {
        Map<String, Object> m = new HashMap<>();
        m.put("general.architecture", "gpt-oss");
        m.put("gpt-oss.embedding_length", 2880L);
        m.put("gpt-oss.block_count", 24L);
        m.put("gpt-oss.feed_forward_length", 2880L);
        m.put("gpt-oss.expert_feed_forward_length", 2880L);
        m.put("gpt-oss.expert_count", 32L);
        m.put("gpt-oss.expert_used_count", 4L);
        m.put("gpt-oss.attention.head_count", 64L);
        m.put("gpt-oss.attention.head_count_kv", 8L);
        m.put("gpt-oss.attention.key_length", 64L);
        m.put("gpt-oss.attention.value_length", 64L);
        m.put("gpt-oss.attention.layer_norm_rms_epsilon", 1e-5f);
        m.put("gpt-oss.attention.sliding_window", 128L);
        m.put("gpt-oss.context_length", 131072L);
        m.put("gpt-oss.rope.freq_base", 150000f);
        m.put("gpt-oss.rope.scaling.type", "yarn");
        m.put("gpt-oss.rope.scaling.factor", 32f);
        m.put("gpt-oss.rope.scaling.original_context_length", 4096L);
        return m;
    }

    @Test
    void ggufGptOss() {
        ModelConfig c = GgufConfigs.fromMetadata(gptOssMetadata(), FILE);
        assertEquals(Architecture.GPT_OSS, c.architecture());
        assertEquals("gpt-oss", c.ggufArchitecture());
        assertEquals(4096, c.qDim(), "64 heads of 64 on a 2,880-wide stream");
        assertEquals(2880, c.ffnDim(), "each expert's width");
        assertEquals(new io.flashllm.flashstore.ffn.ExpertRouting(32, 4, true), c.experts());
        assertEquals(FfnActivation.Kind.GATED_SWIGLU_OAI, c.activation().kind());
        assertEquals(128, c.windowOf(0), "even layers windowed");
        assertEquals(0, c.windowOf(1));
        assertEquals(c.rope(), c.ropeOf(0), "one rotation for all layers");
        assertEquals(RopeStyle.HALF_SPLIT, c.rope().style());
        assertEquals(0.125f, c.attentionScale(), 1e-7);
        // YaRN over 64 rotated dimensions, base 150,000, 4,096 trained positions: pairs 0..8 (those that turn more
        // than 32 times in 4,096 positions: up to the floor of 8.09) keep their frequency, pairs from 18 (the ceiling
        // of 17.40) on are slowed 32 times, a linear ramp between; the rotated dimensions are scaled by 1 + 0.1 ln 32.
        float[] f = c.rope().freqFactors();
        assertEquals(32, f.length);
        for (int i = 0; i <= 8; i++) assertEquals(1f, f[i], 1e-6, "pair " + i);
        for (int i = 18; i < 32; i++) assertEquals(32f, f[i], 1e-4, "pair " + i);
        assertEquals(1 / (0.5f + 0.5f / 32), f[13], 1e-5, "pair 13, halfway along the ramp");
        assertEquals(1 + 0.1f * (float) Math.log(32), c.rope().mscale(), 1e-6);

        Map<String, Object> noExperts = gptOssMetadata();
        noExperts.remove("gpt-oss.expert_count");
        assertTrue(assertThrows(ModelFileException.class, () -> GgufConfigs.fromMetadata(noExperts, FILE)).getMessage()
                .contains("gpt-oss.expert_count is missing"));
        Map<String, Object> noWindow = gptOssMetadata();
        noWindow.remove("gpt-oss.attention.sliding_window");
        assertTrue(assertThrows(ModelFileException.class, () -> GgufConfigs.fromMetadata(noWindow, FILE)).getMessage()
                .contains("sliding_window"));
        Map<String, Object> shrink = gptOssMetadata();
        shrink.put("gpt-oss.rope.scaling.factor", 0.5f);
        assertTrue(assertThrows(ModelFileException.class, () -> GgufConfigs.fromMetadata(shrink, FILE)).getMessage()
                .contains("not a YaRN factor"));
    }

    @Test
    void ggufGemma2() {
        Map<String, Object> m = gemma3Metadata(26);
        m.keySet().removeIf(k -> k.startsWith("gemma3."));
        gemma3Metadata(26).forEach((k, v) -> m.put(k.replace("gemma3.", "gemma2."), v));
        m.put("general.architecture", "gemma2");
        m.put("gemma2.attention.sliding_window", 4096L);
        m.put("gemma2.rope.freq_base", 10000f);
        m.put("gemma2.attn_logit_softcapping", 50f);
        ModelConfig c = GgufConfigs.fromMetadata(m, FILE);
        assertEquals(Architecture.GEMMA2, c.architecture());
        assertEquals(FfnActivation.Kind.GATED_GELU, c.activation().kind());
        assertEquals(4096, c.windowOf(0), "even layers windowed");
        assertEquals(0, c.windowOf(1));
        assertEquals(c.rope(), c.ropeOf(0), "one rotation for all layers");
        assertEquals(50f, c.attnSoftcap());
        assertEquals(30f, c.finalSoftcap(), "llama.cpp's default when the file has none");
        assertEquals(0f, GgufConfigs.fromMetadata(gemma3Metadata(26), FILE).finalSoftcap(), "Gemma 3 has none");
    }

    @Test
    void ggufPhi3() {
        Map<String, Object> m = new HashMap<>();
        llamaMetadata().forEach((k, v) -> m.put(k.replace("llama.", "phi3."), v));
        m.put("general.architecture", "phi3");
        m.put("phi3.block_count", 32L);
        m.put("phi3.context_length", 4096L);
        ModelConfig mini4k = GgufConfigs.fromMetadata(m, FILE);
        assertEquals(Architecture.PHI3, mini4k.architecture());
        assertEquals(RopeStyle.HALF_SPLIT, mini4k.rope().style());
        assertEquals(2047, mini4k.slidingWindow(), "Phi-3-mini-4k's window when the file does not say, as llama.cpp has it");
        m.put("phi3.attention.sliding_window", 0L);
        m.put("phi3.context_length", 131072L);
        m.put("phi3.rope.scaling.type", "longrope");
        m.put("phi3.rope.scaling.attn_factor", 1.19f);
        m.put("phi3.rope.scaling.original_context_length", 4096L);
        ModelConfig longRope = GgufConfigs.fromMetadata(m, FILE);
        assertEquals(0, longRope.slidingWindow());
        assertEquals(1.19f, longRope.rope().mscale());
        assertEquals(4096, longRope.rope().originalContext());
        Map<String, Object> l = llamaMetadata();
        l.put("llama.rope.scaling.type", "longrope");
        ModelFileException e = assertThrows(ModelFileException.class, () -> GgufConfigs.fromMetadata(l, FILE));
        assertTrue(e.getMessage().contains("longrope"), e.getMessage());
    }

    @Test
    void ggufOpt() {
        Map<String, Object> m = new HashMap<>();
        m.put("general.architecture", "opt");
        m.put("opt.embedding_length", 512);
        m.put("opt.block_count", 24);
        m.put("opt.feed_forward_length", 4096);
        m.put("opt.attention.head_count", 16);
        m.put("opt.context_length", 2048);
        m.put("opt.word_embed_proj_dim", 256);
        m.put("opt.layer_norm_before", false);
        ModelConfig c = GgufConfigs.fromMetadata(m, FILE);
        assertEquals(Architecture.OPT, c.architecture());
        assertEquals(FfnActivation.Kind.RELU_NO_GATE, c.activation().kind());
        assertEquals(RopeStyle.NONE, c.rope().style());
        assertFalse(c.preNorm());
        assertEquals(256, c.wordEmbedDim());
        assertEquals(2, c.positionOffset());
        assertEquals(16, c.kvHeads());
    }

    @Test
    void ggufFaultsNameFileAndKey() {
        Map<String, Object> m = llamaMetadata();
        m.remove("llama.block_count");
        ModelFileException e = assertThrows(ModelFileException.class, () -> GgufConfigs.fromMetadata(m, FILE));
        assertTrue(e.getMessage().contains("m.gguf") && e.getMessage().contains("llama.block_count"), e.getMessage());

        Map<String, Object> m2 = llamaMetadata();
        m2.put("general.architecture", "gptj");
        e = assertThrows(ModelFileException.class, () -> GgufConfigs.fromMetadata(m2, FILE));
        assertTrue(e.getMessage().contains("gptj"), e.getMessage());

        Map<String, Object> m3 = llamaMetadata();
        m3.put("llama.attention.head_count_kv", 5L);
        e = assertThrows(ModelFileException.class, () -> GgufConfigs.fromMetadata(m3, FILE));
        assertTrue(e.getMessage().contains("must divide"), e.getMessage());

        Map<String, Object> m4 = llamaMetadata();
        m4.put("llama.embedding_length", "wide");
        e = assertThrows(ModelFileException.class, () -> GgufConfigs.fromMetadata(m4, FILE));
        assertTrue(e.getMessage().contains("integer"), e.getMessage());

        Map<String, Object> m5 = llamaMetadata();
        m5.put("flashllm.ffn.activation", "tanh");
        e = assertThrows(ModelFileException.class, () -> GgufConfigs.fromMetadata(m5, FILE));
        assertTrue(e.getMessage().contains("tanh"), e.getMessage());
    }

    static JsonNode json(String s) throws Exception {
        return new ObjectMapper().readTree(s);
    }

    @Test
    void hfProSparseLlama() throws Exception {
        JsonNode c = json("""
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
                 "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
                 "max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "vocab_size": 32000,
                 "hidden_act": "fatrelu", "hidden_act_param": 0.01, "rope_theta": 10000.0}""");
        ModelConfig m = HfConfigs.fromConfig(c, Path.of("dir/config.json"));
        assertEquals(32, m.kvHeads());
        assertEquals(new FfnActivation(FfnActivation.Kind.GATED_FATRELU, 0.01f), m.activation());
        assertEquals(RopeStyle.HALF_SPLIT, m.rope().style());
        assertEquals("dir", m.name());
    }

    @Test
    void hfLlama3RopeScaling() throws Exception {
        JsonNode c = json("""
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 2048,
                 "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32,
                 "num_key_value_heads": 8, "head_dim": 64, "rope_theta": 500000.0,
                 "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                                  "original_max_position_embeddings": 8192, "rope_type": "llama3"},
                 "max_position_embeddings": 131072}""");
        ModelConfig m = HfConfigs.fromConfig(c, Path.of("config.json"));
        float[] f = m.rope().freqFactors();
        assertEquals(32, f.length);
        assertEquals(1f, f[0], 1e-6);             // highest frequency: short wavelength, kept
        assertEquals(32f, f[31], 1e-3);           // lowest frequency: stretched by the full factor
        for (int i = 1; i < f.length; i++) assertTrue(f[i] >= f[i - 1], "factors grow with wavelength");
        float[] inv = m.rope().inverseFrequencies();
        assertEquals(Math.pow(500000, -2.0 * 31 / 64) / 32, inv[31], 1e-9);
    }

    /**
     * Qwen2.5's long-context YaRN as its model cards give it, from a Hugging Face config and from GGUF keys as
     * llama.cpp's converter writes them: the same rotation either way. gpt-oss's MXFP4 safetensors are refused.
     */
    @Test
    void yarnFromHfAndGguf() throws Exception {
        ModelConfig hf = HfConfigs.fromConfig(json("""
                {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 3584,
                 "intermediate_size": 18944, "num_hidden_layers": 28, "num_attention_heads": 28,
                 "num_key_value_heads": 4, "rope_theta": 1000000.0, "max_position_embeddings": 131072,
                 "rope_scaling": {"factor": 4.0, "original_max_position_embeddings": 32768, "type": "yarn"}}"""),
                Path.of("config.json"));
        Map<String, Object> m = new HashMap<>();
        m.put("general.architecture", "qwen2");
        m.put("qwen2.embedding_length", 3584L);
        m.put("qwen2.block_count", 28L);
        m.put("qwen2.feed_forward_length", 18944L);
        m.put("qwen2.attention.head_count", 28L);
        m.put("qwen2.attention.head_count_kv", 4L);
        m.put("qwen2.context_length", 131072L);
        m.put("qwen2.rope.freq_base", 1000000f);
        m.put("qwen2.rope.scaling.type", "yarn");
        m.put("qwen2.rope.scaling.factor", 4f);
        m.put("qwen2.rope.scaling.original_context_length", 32768L);
        ModelConfig gguf = GgufConfigs.fromMetadata(m, FILE);
        assertArrayEquals(gguf.rope().freqFactors(), hf.rope().freqFactors());
        assertEquals(gguf.rope().mscale(), hf.rope().mscale());
        assertEquals(1 + 0.1f * (float) Math.log(4), hf.rope().mscale(), 1e-6);
        float[] f = hf.rope().freqFactors();
        assertEquals(1f, f[0], 1e-6, "the fastest pair keeps its frequency");
        assertEquals(4f, f[f.length - 1], 1e-5, "the slowest is slowed by the factor");

        ModelFileException e = assertThrows(ModelFileException.class, () -> HfConfigs.fromConfig(json("""
                {"architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss"}"""), Path.of("config.json")));
        assertTrue(e.getMessage().contains("GGUF"), e.getMessage());
    }

    @Test
    void hfMistralSlidingWindow() throws Exception {
        ModelConfig m = HfConfigs.fromConfig(json("""
                {"architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_size": 4096,
                 "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
                 "num_key_value_heads": 8, "max_position_embeddings": 32768, "sliding_window": 4096}"""),
                Path.of("config.json"));
        assertEquals(4096, m.slidingWindow());
        assertEquals(4, m.groupSize());
    }

    @Test
    void hfQwen2AndOpt() throws Exception {
        ModelConfig q = HfConfigs.fromConfig(json("""
                {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 896,
                 "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
                 "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
                 "max_position_embeddings": 32768, "tie_word_embeddings": true, "hidden_act": "silu"}"""),
                Path.of("config.json"));
        assertEquals(Architecture.QWEN2, q.architecture());
        assertEquals(64, q.headDim());
        assertEquals(1e6f, q.rope().theta());
        assertEquals(0, q.slidingWindow());

        // Qwen3 0.6B's config: head_dim set apart from hidden_size / heads; its window unused.
        ModelConfig q3 = HfConfigs.fromConfig(json("""
                {"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": 1024,
                 "intermediate_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 16,
                 "num_key_value_heads": 8, "head_dim": 128, "rms_norm_eps": 1e-06, "rope_theta": 1000000,
                 "max_position_embeddings": 40960, "sliding_window": null, "use_sliding_window": false,
                 "attention_bias": false, "tie_word_embeddings": true, "hidden_act": "silu",
                 "vocab_size": 151936}"""),
                Path.of("config.json"));
        assertEquals(Architecture.QWEN3, q3.architecture());
        assertEquals(128, q3.headDim());
        assertEquals(2048, q3.qDim());
        assertEquals(RopeStyle.HALF_SPLIT, q3.rope().style());
        assertEquals(0, q3.slidingWindow());

        ModelConfig o = HfConfigs.fromConfig(json("""
                {"architectures": ["OPTForCausalLM"], "model_type": "opt", "hidden_size": 1024,
                 "ffn_dim": 4096, "num_hidden_layers": 24, "num_attention_heads": 16,
                 "max_position_embeddings": 2048, "word_embed_proj_dim": 512, "do_layer_norm_before": false,
                 "activation_function": "relu", "enable_bias": true, "vocab_size": 50272}"""),
                Path.of("config.json"));
        assertEquals(Architecture.OPT, o.architecture());
        assertEquals(512, o.wordEmbedDim());
        assertFalse(o.preNorm());
        assertEquals(50272, o.vocabSize());
    }

    @Test
    void hfFaults() {
        ModelFileException e = assertThrows(ModelFileException.class, () -> HfConfigs.fromConfig(json("""
                {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}"""), Path.of("config.json")));
        assertTrue(e.getMessage().contains("gpt2"), e.getMessage());
        e = assertThrows(ModelFileException.class, () -> HfConfigs.fromConfig(json("""
                {"model_type": "llama", "hidden_size": 64}"""), Path.of("config.json")));
        assertTrue(e.getMessage().contains("num_hidden_layers"), e.getMessage());
        e = assertThrows(ModelFileException.class, () -> HfConfigs.fromConfig(json("""
                {"model_type": "opt", "hidden_size": 64, "ffn_dim": 128, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "activation_function": "gelu"}"""), Path.of("config.json")));
        assertTrue(e.getMessage().contains("gelu"), e.getMessage());
    }

    @Test
    void ropeConfigValidates() {
        assertThrows(IllegalArgumentException.class, () -> new RopeConfig(RopeStyle.INTERLEAVED, 1e4f, 7, 1f, null));
        assertThrows(IllegalArgumentException.class,
                () -> new RopeConfig(RopeStyle.INTERLEAVED, 1e4f, 8, 1f, new float[3]));
        RopeConfig r = new RopeConfig(RopeStyle.HALF_SPLIT, 100f, 4, 2f, new float[] {1f, 2f});
        assertArrayEquals(new float[] {0.5f, (float) (Math.pow(100, -0.5) / 2 / 2)}, r.inverseFrequencies(), 1e-7f);
    }
}
