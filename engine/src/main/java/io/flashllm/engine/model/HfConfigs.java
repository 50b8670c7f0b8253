package io.flashllm.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.flashstore.ModelFileException;
import io.flashllm.flashstore.ffn.ExpertRouting;
import io.flashllm.flashstore.ffn.FfnActivation;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Reads a {@link ModelConfig} from a Hugging Face {@code config.json}: LlamaForCausalLM,
 * MistralForCausalLM, MixtralForCausalLM, GraniteForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Qwen3MoeForCausalLM (with {@code hidden_act} silu, relu or fatrelu, the FATReLU
 * threshold in {@code hidden_act_param} as ProSparse writes it, or {@code fatrelu_threshold}) and
 * OPTForCausalLM. HF weights rotate half-split, so every RoPE here is {@link RopeStyle#HALF_SPLIT}.
 */
public final class HfConfigs {
    private HfConfigs() {}

    public static ModelConfig fromConfig(JsonNode config, Path file) {
        String modelType = text(config, "model_type", "");
        String archClass = config.path("architectures").path(0).asText("");
        Architecture arch = switch (modelType) {
            case "llama", "mistral", "mixtral", "granite" -> Architecture.LLAMA;
            case "qwen2" -> Architecture.QWEN2;
            case "qwen3", "qwen3_moe" -> Architecture.QWEN3;
            case "opt" -> Architecture.OPT;
            case "gemma2", "gemma3", "gemma3_text" -> throw new ModelFileException(file, "Gemma 2 and 3 are read from GGUF"
                    + " files only (llama.cpp's convert_hf_to_gguf.py writes one from this directory; Ollama's gemma blobs"
                    + " are GGUF)");
            case "gpt_oss" -> throw new ModelFileException(file, "gpt-oss is read from GGUF files only (its MXFP4"
                    + " safetensors are not read; llama.cpp's convert_hf_to_gguf.py writes a GGUF file from this directory,"
                    + " and Ollama's gpt-oss blobs are GGUF)");
            default -> switch (archClass) {
                case "LlamaForCausalLM", "MistralForCausalLM", "MixtralForCausalLM", "GraniteForCausalLM" -> Architecture.LLAMA;
                case "Qwen2ForCausalLM" -> Architecture.QWEN2;
                case "Qwen3ForCausalLM", "Qwen3MoeForCausalLM" -> Architecture.QWEN3;
                case "OPTForCausalLM" -> Architecture.OPT;
                default -> throw new ModelFileException(file, "model type '" + modelType + "' ("
                        + archClass + ") is not supported (llama, mistral, mixtral, granite, qwen2, qwen3, qwen3_moe and opt are)");
            };
        };
        String name = text(config, "_name_or_path", "");
        if (name.isEmpty()) {
            Path dir = file.getParent() != null ? file.getParent() : file;
            name = dir.getFileName() == null ? modelType : dir.getFileName().toString();
        }
        try {
            return arch == Architecture.OPT ? opt(config, name, file) : llama(config, arch, name, file);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(file, e.getMessage());
        }
    }

    private static ModelConfig llama(JsonNode c, Architecture arch, String name, Path file) {
        int dim = requireInt(c, "hidden_size", file);
        int layers = requireInt(c, "num_hidden_layers", file);
        ExpertRouting experts = experts(c, file);
        // Qwen3-MoE's intermediate_size is a dense equivalent; its experts are moe_intermediate_size wide.
        int ffn = experts.moe() && c.has("moe_intermediate_size") ? requireInt(c, "moe_intermediate_size", file)
                : requireInt(c, "intermediate_size", file);
        int heads = requireInt(c, "num_attention_heads", file);
        int kvHeads = intOr(c, "num_key_value_heads", heads, file);
        int headDim = intOr(c, "head_dim", heads > 0 && dim % heads == 0 ? dim / heads : 0, file);
        int vocab = intOr(c, "vocab_size", 0, file);
        int context = intOr(c, "max_position_embeddings", 2048, file);
        float eps = (float) doubleOr(c, "rms_norm_eps", 1e-6, file);
        float theta = (float) doubleOr(c, "rope_theta", 10000, file);
        int rotDim = (int) Math.round(headDim * doubleOr(c, "partial_rotary_factor", 1.0, file));
        RopeConfig rope = new RopeConfig(RopeStyle.HALF_SPLIT, theta, rotDim, 1f, null);
        JsonNode scaling = c.get("rope_scaling");
        if (scaling != null && !scaling.isNull()) rope = scaledRope(rope, scaling, file);

        String act = text(c, "hidden_act", "silu").toLowerCase(Locale.ROOT);
        float threshold = (float) doubleOr(c, "hidden_act_param", doubleOr(c, "fatrelu_threshold", 0, file), file);
        FfnActivation activation = Activations.parse(act, threshold, true, file);
        // Mistral v0.1 attends within a window; Qwen2 and Qwen3 name one too but use it only when asked to.
        int window = 0;
        boolean windowed = arch == Architecture.LLAMA || c.path("use_sliding_window").asBoolean(false);
        if (windowed && c.hasNonNull("sliding_window")) window = intOr(c, "sliding_window", 0, file);
        if (window >= context) window = 0;
        ModelConfig config = new ModelConfig(arch, name, dim, layers, ffn, heads, kvHeads, headDim, vocab, context, eps, rope,
                activation, true, dim, 0, window).withExperts(experts);
        if (c.hasNonNull("embedding_multiplier") || c.hasNonNull("residual_multiplier") || c.hasNonNull("logits_scaling")
                || c.hasNonNull("attention_multiplier")) {
            // Granite: its scalars, the query-key scale among them.
            Multipliers m = new Multipliers((float) doubleOr(c, "embedding_multiplier", 1, file),
                    (float) doubleOr(c, "residual_multiplier", 1, file), (float) doubleOr(c, "logits_scaling", 1, file));
            config = config.withMultipliers(m, (float) doubleOr(c, "attention_multiplier", config.attentionScale(), file));
        }
        return config;
    }

    /**
     * Mixtral's {@code num_local_experts} (its chosen experts' weights always sum to 1) or Qwen3-MoE's
     * {@code num_experts} (summing to 1 when {@code norm_topk_prob}, false by default as in transformers),
     * each with {@code num_experts_per_tok}. Qwen3-MoE checkpoints with dense layers among the sparse ones
     * ({@code mlp_only_layers}, {@code decoder_sparse_step} above 1) are refused.
     */
    private static ExpertRouting experts(JsonNode c, Path file) {
        boolean mixtral = c.hasNonNull("num_local_experts");
        int count = mixtral ? intOr(c, "num_local_experts", 0, file) : intOr(c, "num_experts", 0, file);
        if (count == 0) return ExpertRouting.NONE;
        int used = requireInt(c, "num_experts_per_tok", file);
        if (!mixtral) {
            JsonNode denseLayers = c.get("mlp_only_layers");
            if (intOr(c, "decoder_sparse_step", 1, file) != 1 || (denseLayers != null && !denseLayers.isEmpty())) {
                throw new ModelFileException(file, "dense layers among the expert layers (decoder_sparse_step, "
                        + "mlp_only_layers) are not supported");
            }
        }
        boolean normalize = mixtral || c.path("norm_topk_prob").asBoolean(false);
        try {
            return new ExpertRouting(count, used, normalize);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(file, e.getMessage());
        }
    }

    private static RopeConfig scaledRope(RopeConfig rope, JsonNode s, Path file) {
        String type = text(s, "rope_type", text(s, "type", "default")).toLowerCase(Locale.ROOT);
        float factor = (float) doubleOr(s, "factor", 1.0, file);
        return switch (type) {
            case "default" -> rope;
            case "linear" -> new RopeConfig(rope.style(), rope.theta(), rope.rotaryDim(), factor, null);
            case "llama3" -> rope.withFreqFactors(RopeConfig.llama3FreqFactors(rope.theta(), rope.rotaryDim(), factor,
                    (float) doubleOr(s, "low_freq_factor", 1.0, file),
                    (float) doubleOr(s, "high_freq_factor", 4.0, file),
                    intOr(s, "original_max_position_embeddings", 8192, file)));
            // Hugging Face's YaRN (its bounds rounded outwards, as truncate defaults): what llama.cpp applies too.
            case "yarn" -> new RopeConfig(rope.style(), rope.theta(), rope.rotaryDim(), 1f,
                    RopeConfig.yarnFreqFactors(rope.theta(), rope.rotaryDim(), factor,
                            intOr(s, "original_max_position_embeddings", 4096, file),
                            (float) doubleOr(s, "beta_fast", 32.0, file), (float) doubleOr(s, "beta_slow", 1.0, file), 1f),
                    s.has("attention_factor") ? (float) doubleOr(s, "attention_factor", 1.0, file)
                            : RopeConfig.yarnMscale(factor, 1f, 1f), 0);
            default -> throw new ModelFileException(file, "rope_scaling type '" + type
                    + "' is not supported (linear, llama3 and yarn are)");
        };
    }

    private static ModelConfig opt(JsonNode c, String name, Path file) {
        int dim = requireInt(c, "hidden_size", file);
        int layers = requireInt(c, "num_hidden_layers", file);
        int ffn = requireInt(c, "ffn_dim", file);
        int heads = requireInt(c, "num_attention_heads", file);
        int vocab = intOr(c, "vocab_size", 0, file);
        int context = intOr(c, "max_position_embeddings", 2048, file);
        int wordDim = intOr(c, "word_embed_proj_dim", dim, file);
        boolean preNorm = c.path("do_layer_norm_before").asBoolean(true);
        String act = text(c, "activation_function", "relu").toLowerCase(Locale.ROOT);
        FfnActivation activation = Activations.parse(act, 0f, false, file);
        if (heads <= 0 || dim % heads != 0) {
            throw new ModelFileException(file, "hidden_size " + dim + " is not a multiple of num_attention_heads " + heads);
        }
        // OPT's LayerNorms use PyTorch's default epsilon; config.json does not carry it.
        return new ModelConfig(Architecture.OPT, name, dim, layers, ffn, heads, heads, dim / heads, vocab, context,
                1e-5f, RopeConfig.none(), activation, preNorm, wordDim, 2, 0);
    }

    private static String text(JsonNode c, String field, String dflt) {
        JsonNode n = c.get(field);
        return n == null || n.isNull() ? dflt : n.asText();
    }

    private static int requireInt(JsonNode c, String field, Path file) {
        JsonNode n = c.get(field);
        if (n == null || n.isNull()) throw new ModelFileException(file, "config field " + field + " is missing");
        return intOr(c, field, 0, file);
    }

    private static int intOr(JsonNode c, String field, int dflt, Path file) {
        JsonNode n = c.get(field);
        if (n == null || n.isNull()) return dflt;
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new ModelFileException(file, "config field " + field + " should be an integer but is " + n);
        }
        return n.intValue();
    }

    private static double doubleOr(JsonNode c, String field, double dflt, Path file) {
        JsonNode n = c.get(field);
        if (n == null || n.isNull()) return dflt;
        if (!n.isNumber()) throw new ModelFileException(file, "config field " + field + " should be a number but is " + n);
        return n.doubleValue();
    }
}
