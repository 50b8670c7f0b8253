package io.flashllm.engine.model;

import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.testutil.ReferenceForward;
import io.flashllm.engine.testutil.TestVocab;
import io.flashllm.engine.testutil.TinyModels;
import io.flashllm.engine.testutil.TinySpec;
import io.flashllm.flashstore.ModelFileException;
import io.flashllm.flashstore.bundle.BundleException;
import io.flashllm.flashstore.bundle.ConvertOptions;
import io.flashllm.flashstore.bundle.Converter;
import io.flashllm.flashstore.ffn.ExpertRouting;
import io.flashllm.flashstore.ffn.MoeFeedForward;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.kernels.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static io.flashllm.engine.model.ModelConfigTest.FILE;
import static io.flashllm.engine.model.ModelConfigTest.json;
import static io.flashllm.engine.model.TransformerVsReferenceTest.OPTIONS;
import static io.flashllm.engine.model.TransformerVsReferenceTest.TOKENS;
import static io.flashllm.engine.model.TransformerVsReferenceTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mixtures of experts (Mixtral, Qwen3-MoE): what the files say about routing, the older one-tensor-per-expert
 * layout, and the faults a broken file or an unsupported request gets. The logits themselves are checked
 * against the reference in {@link TransformerVsReferenceTest} and across GGUF and HF in {@link GgufVsHfTest}.
 */
class MixtureOfExpertsTest {
    @TempDir
    Path dir;

    @Test
    void routingFromGgufAndTheModelSaysWhatItIs() throws Exception {
        TinySpec spec = TinySpec.qwen3moe(GgmlType.Q8_0);
        Path file = new TinyModels(spec).writeGguf(dir.resolve("q.gguf"), TestVocab.spm(spec.vocab()));
        try (LanguageModel model = ModelLoader.loadLanguageModel(file, OPTIONS)) {
            ModelConfig c = model.config();
            assertEquals(Architecture.QWEN3, c.architecture());
            assertEquals(new ExpertRouting(6, 3, true), c.experts());
            assertEquals(spec.ffnDim(), c.ffnDim(), "the experts' width, not the dense feed_forward_length");
            assertEquals("qwen3moe", c.ggufArchitecture());
            MoeFeedForward ffn = assertInstanceOf(MoeFeedForward.class, model.ffn());
            assertEquals(c.experts(), ffn.routing());
            // Every expert's matrices count, not only the ones a token runs.
            long expertParams = (long) spec.layers() * spec.experts() * 3 * spec.dim() * spec.ffnDim();
            long routerParams = (long) spec.layers() * spec.experts() * spec.dim();
            long total;
            try (GgufFile g = GgufFile.open(file)) {
                total = g.tensorInfos().stream().mapToLong(io.flashllm.flashstore.gguf.GgufTensorInfo::elements).sum();
            }
            assertEquals(total, model.weights().parameterCount());
            assertTrue(total > expertParams + routerParams);
        }
        try (InferenceModel m = ModelLoader.load(file, OPTIONS)) {
            assertEquals("qwen3moe", m.info().architecture());
        }
    }

    @Test
    void oneTensorPerExpertAsOlderMixtralFilesHoldThem() throws Exception {
        TinySpec spec = TinySpec.mixtral(GgmlType.Q4_0);
        Path file = new TinyModels(spec).withSplitExperts().writeGguf(dir.resolve("split.gguf"), Map.of());
        float[][] expected;
        try (GgufFile gguf = GgufFile.open(file)) {
            assertTrue(gguf.tensor("blk.1.ffn_down.3.weight") != null);
            assertTrue(gguf.tensor("blk.1.ffn_down_exps.weight") == null);
            expected = new ReferenceForward(spec, gguf::tensor).run(TOKENS);
        }
        try (LanguageModel model = ModelLoader.loadLanguageModel(file, OPTIONS);
             Transformer t = model.newTransformer(32);
             Transformer batched = model.newTransformer(32)) {
            for (int p = 0; p < TOKENS.length; p++) assertClose(expected[p], t.forward(TOKENS[p], p), "p" + p);
            assertClose(expected[TOKENS.length - 1], batched.forward(TOKENS, 0, TOKENS.length, 0), "batched");
        }
    }

    @Test
    void aMissingOrMisshapenExpertTensorIsNamed() throws Exception {
        TinySpec spec = TinySpec.mixtral(GgmlType.F32);
        Path split = new TinyModels(spec).withSplitExperts().writeGguf(dir.resolve("split.gguf"), Map.of());
        ModelFileException e = assertThrows(ModelFileException.class, () -> loadHiding(split, config(split),
                "blk.1.ffn_up.2.weight"));
        assertTrue(e.getMessage().contains("blk.1.ffn_up.2.weight is missing"), e.getMessage());
        assertTrue(e.getMessage().contains("blk.1.ffn_gate_exps.weight"), e.getMessage());

        Path merged = new TinyModels(spec).writeGguf(dir.resolve("merged.gguf"), Map.of());
        e = assertThrows(ModelFileException.class, () -> loadHiding(merged, config(merged), "blk.0.ffn_down_exps.weight"));
        assertTrue(e.getMessage().contains("blk.0.ffn_down_exps.weight is missing"), e.getMessage());
        e = assertThrows(ModelFileException.class, () -> loadHiding(merged, config(merged), "blk.0.ffn_gate_inp.weight"));
        assertTrue(e.getMessage().contains("blk.0.ffn_gate_inp.weight is missing"), e.getMessage());
        // A file that claims more experts than its tensors hold.
        ModelConfig more = config(merged).withExperts(new ExpertRouting(5, 2, true));
        e = assertThrows(ModelFileException.class, () -> loadHiding(merged, more, null));
        assertTrue(e.getMessage().contains("blk.0.ffn_gate_inp.weight has 4 rows"), e.getMessage());
    }

    @Test
    void ggufRoutingKeysAreChecked() {
        Map<String, Object> m = ModelConfigTest.llamaMetadata();
        m.put("llama.expert_count", 8L);
        m.put("llama.expert_used_count", 2L);
        assertEquals(new ExpertRouting(8, 2, true), GgufConfigs.fromMetadata(m, FILE).experts());

        m.put("llama.expert_used_count", 9L);
        ModelFileException e = assertThrows(ModelFileException.class, () -> GgufConfigs.fromMetadata(m, FILE));
        assertTrue(e.getMessage().contains("between 1 and the expert count 8, got 9"), e.getMessage());
        m.remove("llama.expert_used_count");
        e = assertThrows(ModelFileException.class, () -> GgufConfigs.fromMetadata(m, FILE));
        assertTrue(e.getMessage().contains("llama.expert_used_count"), e.getMessage());

        Map<String, Object> q = ModelConfigTest.llamaMetadata();
        q.put("general.architecture", "qwen3moe");
        Map<String, Object> renamed = new java.util.HashMap<>();
        q.forEach((k, v) -> renamed.put(k.replace("llama.", "qwen3moe."), v));
        e = assertThrows(ModelFileException.class, () -> GgufConfigs.fromMetadata(renamed, FILE));
        assertTrue(e.getMessage().contains("qwen3moe.expert_count is missing"), e.getMessage());
        renamed.put("qwen3moe.expert_count", 128L);
        renamed.put("qwen3moe.expert_used_count", 8L);
        renamed.put("qwen3moe.expert_feed_forward_length", 768L);
        ModelConfig c = GgufConfigs.fromMetadata(renamed, FILE);
        assertEquals(768, c.ffnDim());
        assertEquals(new ExpertRouting(128, 8, true), c.experts());
    }

    @Test
    void hfRoutingAndWhatIsRefused() throws Exception {
        String qwen = """
                {"architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe", "hidden_size": 2048,
                 "intermediate_size": 6144, "moe_intermediate_size": 768, "num_hidden_layers": 48,
                 "num_attention_heads": 32, "num_key_value_heads": 4, "head_dim": 128, "num_experts": 128,
                 "num_experts_per_tok": 8, "norm_topk_prob": %s, "decoder_sparse_step": 1, "mlp_only_layers": %s}""";
        ModelConfig c = HfConfigs.fromConfig(json(qwen.formatted("true", "[]")), Path.of("config.json"));
        assertEquals(new ExpertRouting(128, 8, true), c.experts());
        assertEquals(768, c.ffnDim());
        assertFalse(HfConfigs.fromConfig(json(qwen.formatted("false", "[]")), Path.of("config.json")).experts().normalize());
        ModelFileException e = assertThrows(ModelFileException.class,
                () -> HfConfigs.fromConfig(json(qwen.formatted("true", "[0, 47]")), Path.of("config.json")));
        assertTrue(e.getMessage().contains("mlp_only_layers"), e.getMessage());

        ModelConfig mixtral = HfConfigs.fromConfig(json("""
                {"architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "hidden_size": 4096,
                 "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
                 "num_key_value_heads": 8, "num_local_experts": 8, "num_experts_per_tok": 2, "sliding_window": null}"""),
                Path.of("config.json"));
        assertEquals(Architecture.LLAMA, mixtral.architecture());
        assertEquals(new ExpertRouting(8, 2, true), mixtral.experts());
        assertEquals(14336, mixtral.ffnDim());
        assertEquals("llama", mixtral.ggufArchitecture());
    }

    @Test
    void convertRefusesExpertsPlainly() throws Exception {
        Path file = new TinyModels(TinySpec.mixtral(GgmlType.Q8_0)).writeGguf(dir.resolve("m.gguf"), Map.of());
        Path out = dir.resolve("m.bundle");
        BundleException e = assertThrows(BundleException.class,
                () -> Converter.convert(file, out, ConvertOptions.defaults()));
        assertTrue(e.getMessage().contains("mixture-of-experts"), e.getMessage());
        assertTrue(e.getMessage().contains("serve the model file itself"), e.getMessage());
        assertFalse(Files.exists(out));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "nothing left behind");
        }
    }

    private static ModelConfig config(Path file) {
        try (GgufFile g = GgufFile.open(file)) {
            return GgufConfigs.fromMetadata(g.metadata(), file);
        }
    }

    /** Loads the weights of {@code file} as {@code config} describes them, with tensor {@code hidden} (if any) absent. */
    private static void loadHiding(Path file, ModelConfig config, String hidden) {
        try (GgufFile g = GgufFile.open(file)) {
            WeightLoader.load(config, new TensorSource() {
                @Override
                public io.flashllm.kernels.WeightTensor tensor(String name) {
                    return name.equals(hidden) ? null : g.tensor(name);
                }

                @Override
                public Path path() {
                    return file;
                }
            }, TensorNames.gguf());
        }
    }
}
