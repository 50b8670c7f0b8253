package io.flashllm.engine.model;

import java.util.EnumMap;
import java.util.Map;

/**
 * Tensor names per source. GGUF Llama/Qwen2 names are llama.cpp's. OPT has no llama.cpp names, so
 * flashllm's OPT GGUF files use the same scheme, mapped from Hugging Face's OPT like this:
 * <pre>
 *   model.decoder.embed_tokens.weight               token_embd.weight
 *   model.decoder.embed_positions.weight            position_embd.weight   (rows keep HF's offset of 2)
 *   model.decoder.project_in.weight                 proj_in.weight
 *   model.decoder.project_out.weight                proj_out.weight
 *   layers.N.self_attn_layer_norm.{weight,bias}     blk.N.attn_norm.{weight,bias}
 *   layers.N.self_attn.{q,k,v}_proj.{weight,bias}   blk.N.attn_{q,k,v}.{weight,bias}
 *   layers.N.self_attn.out_proj.{weight,bias}       blk.N.attn_output.{weight,bias}
 *   layers.N.final_layer_norm.{weight,bias}         blk.N.ffn_norm.{weight,bias}
 *   layers.N.fc1.{weight,bias}                      blk.N.ffn_up.{weight,bias}
 *   layers.N.fc2.{weight,bias}                      blk.N.ffn_down.{weight,bias}
 *   model.decoder.final_layer_norm.{weight,bias}    output_norm.{weight,bias}
 *   lm_head.weight                                  output.weight          (absent: tied to token_embd)
 * </pre>
 * OPT's q/k are not permuted (it has no RoPE).
 */
public final class TensorNames {
    private final Map<TensorRole, String> patterns;

    private TensorNames(Map<TensorRole, String> patterns) {
        this.patterns = patterns;
    }

    /** The name of {@code role} in layer {@code layer} (ignored for whole-model roles), or null if this source has none. */
    public String name(TensorRole role, int layer) {
        String p = patterns.get(role);
        if (p == null) return null;
        return role.perLayer ? p.replace("{N}", Integer.toString(layer)) : p;
    }

    /** The name of {@code role} for expert {@code expert} of layer {@code layer}, or null if this source has none. */
    public String name(TensorRole role, int layer, int expert) {
        String n = name(role, layer);
        return n == null ? null : n.replace("{E}", Integer.toString(expert));
    }

    /** llama.cpp's names, for every architecture (OPT by the table above). */
    public static TensorNames gguf() {
        Map<TensorRole, String> m = new EnumMap<>(TensorRole.class);
        m.put(TensorRole.TOKEN_EMBEDDING, "token_embd.weight");
        m.put(TensorRole.POSITION_EMBEDDING, "position_embd.weight");
        m.put(TensorRole.PROJECT_IN, "proj_in.weight");
        m.put(TensorRole.PROJECT_OUT, "proj_out.weight");
        m.put(TensorRole.OUTPUT_NORM, "output_norm.weight");
        m.put(TensorRole.OUTPUT_NORM_BIAS, "output_norm.bias");
        m.put(TensorRole.OUTPUT, "output.weight");
        m.put(TensorRole.ROPE_FREQS, "rope_freqs.weight");
        m.put(TensorRole.ROPE_FACTORS_LONG, "rope_factors_long.weight");
        m.put(TensorRole.ROPE_FACTORS_SHORT, "rope_factors_short.weight");
        layer(m, TensorRole.ATTN_NORM, "blk.{N}.attn_norm");
        layer(m, TensorRole.ATTN_Q, "blk.{N}.attn_q");
        layer(m, TensorRole.ATTN_K, "blk.{N}.attn_k");
        layer(m, TensorRole.ATTN_V, "blk.{N}.attn_v");
        layer(m, TensorRole.ATTN_OUTPUT, "blk.{N}.attn_output");
        layer(m, TensorRole.ATTN_Q_NORM, "blk.{N}.attn_q_norm");
        layer(m, TensorRole.ATTN_K_NORM, "blk.{N}.attn_k_norm");
        layer(m, TensorRole.ATTN_POST_NORM, "blk.{N}.post_attention_norm");
        layer(m, TensorRole.ATTN_SINKS, "blk.{N}.attn_sinks");
        layer(m, TensorRole.FFN_NORM, "blk.{N}.ffn_norm");
        layer(m, TensorRole.FFN_POST_NORM, "blk.{N}.post_ffw_norm");
        layer(m, TensorRole.FFN_GATE, "blk.{N}.ffn_gate");
        layer(m, TensorRole.FFN_UP, "blk.{N}.ffn_up");
        layer(m, TensorRole.FFN_DOWN, "blk.{N}.ffn_down");
        layer(m, TensorRole.FFN_GATE_INP, "blk.{N}.ffn_gate_inp");
        layer(m, TensorRole.FFN_GATE_EXPS, "blk.{N}.ffn_gate_exps");
        layer(m, TensorRole.FFN_UP_EXPS, "blk.{N}.ffn_up_exps");
        layer(m, TensorRole.FFN_DOWN_EXPS, "blk.{N}.ffn_down_exps");
        layer(m, TensorRole.FFN_GATE_EXP, "blk.{N}.ffn_gate.{E}");
        layer(m, TensorRole.FFN_UP_EXP, "blk.{N}.ffn_up.{E}");
        layer(m, TensorRole.FFN_DOWN_EXP, "blk.{N}.ffn_down.{E}");
        return new TensorNames(m);
    }

    /**
     * llama.cpp's names for {@code architecture}: {@link #gguf()}, except that gpt-oss's norm in front of the
     * FFN is stored as {@code post_attention_norm}.
     */
    public static TensorNames gguf(Architecture architecture) {
        TensorNames names = gguf();
        if (architecture == Architecture.GPT_OSS) {
            names.patterns.put(TensorRole.FFN_NORM, "blk.{N}.post_attention_norm.weight");
            names.patterns.remove(TensorRole.ATTN_POST_NORM);
        }
        return names;
    }

    /** Hugging Face Mixtral names: Llama's, with each layer's experts under {@code block_sparse_moe}. */
    public static TensorNames hfMixtral() {
        TensorNames names = hfLlama();
        String l = "model.layers.{N}.block_sparse_moe.";
        layer(names.patterns, TensorRole.FFN_GATE_INP, l + "gate");
        layer(names.patterns, TensorRole.FFN_GATE_EXP, l + "experts.{E}.w1");
        layer(names.patterns, TensorRole.FFN_UP_EXP, l + "experts.{E}.w3");
        layer(names.patterns, TensorRole.FFN_DOWN_EXP, l + "experts.{E}.w2");
        return names;
    }

    /** Hugging Face Llama / Mistral / Qwen2 / Qwen3 names; Qwen3-MoE's experts under {@code mlp.experts}. */
    public static TensorNames hfLlama() {
        Map<TensorRole, String> m = new EnumMap<>(TensorRole.class);
        m.put(TensorRole.TOKEN_EMBEDDING, "model.embed_tokens.weight");
        m.put(TensorRole.OUTPUT_NORM, "model.norm.weight");
        m.put(TensorRole.OUTPUT, "lm_head.weight");
        String l = "model.layers.{N}.";
        layer(m, TensorRole.ATTN_NORM, l + "input_layernorm");
        layer(m, TensorRole.ATTN_Q, l + "self_attn.q_proj");
        layer(m, TensorRole.ATTN_K, l + "self_attn.k_proj");
        layer(m, TensorRole.ATTN_V, l + "self_attn.v_proj");
        layer(m, TensorRole.ATTN_OUTPUT, l + "self_attn.o_proj");
        layer(m, TensorRole.ATTN_Q_NORM, l + "self_attn.q_norm");
        layer(m, TensorRole.ATTN_K_NORM, l + "self_attn.k_norm");
        layer(m, TensorRole.FFN_NORM, l + "post_attention_layernorm");
        layer(m, TensorRole.FFN_GATE, l + "mlp.gate_proj");
        layer(m, TensorRole.FFN_UP, l + "mlp.up_proj");
        layer(m, TensorRole.FFN_DOWN, l + "mlp.down_proj");
        layer(m, TensorRole.FFN_GATE_INP, l + "mlp.gate");
        layer(m, TensorRole.FFN_GATE_EXP, l + "mlp.experts.{E}.gate_proj");
        layer(m, TensorRole.FFN_UP_EXP, l + "mlp.experts.{E}.up_proj");
        layer(m, TensorRole.FFN_DOWN_EXP, l + "mlp.experts.{E}.down_proj");
        return new TensorNames(m);
    }

    /**
     * Hugging Face OPT names under {@code prefix}: "model.decoder." for OPTForCausalLM checkpoints,
     * "decoder." for the bare OPTModel ones some repositories ship.
     */
    public static TensorNames hfOpt(String prefix) {
        Map<TensorRole, String> m = new EnumMap<>(TensorRole.class);
        m.put(TensorRole.TOKEN_EMBEDDING, prefix + "embed_tokens.weight");
        m.put(TensorRole.POSITION_EMBEDDING, prefix + "embed_positions.weight");
        m.put(TensorRole.PROJECT_IN, prefix + "project_in.weight");
        m.put(TensorRole.PROJECT_OUT, prefix + "project_out.weight");
        m.put(TensorRole.OUTPUT_NORM, prefix + "final_layer_norm.weight");
        m.put(TensorRole.OUTPUT_NORM_BIAS, prefix + "final_layer_norm.bias");
        m.put(TensorRole.OUTPUT, "lm_head.weight");
        String l = prefix + "layers.{N}.";
        layer(m, TensorRole.ATTN_NORM, l + "self_attn_layer_norm");
        layer(m, TensorRole.ATTN_Q, l + "self_attn.q_proj");
        layer(m, TensorRole.ATTN_K, l + "self_attn.k_proj");
        layer(m, TensorRole.ATTN_V, l + "self_attn.v_proj");
        layer(m, TensorRole.ATTN_OUTPUT, l + "self_attn.out_proj");
        layer(m, TensorRole.FFN_NORM, l + "final_layer_norm");
        layer(m, TensorRole.FFN_UP, l + "fc1");
        layer(m, TensorRole.FFN_DOWN, l + "fc2");
        return new TensorNames(m);
    }

    /** A weight and its bias: the role and the role after it in {@link TensorRole} share a base name. */
    private static void layer(Map<TensorRole, String> m, TensorRole weight, String base) {
        m.put(weight, base + ".weight");
        TensorRole[] roles = TensorRole.values();
        if (weight.ordinal() + 1 == roles.length) return;
        TensorRole bias = roles[weight.ordinal() + 1];
        if (bias.name().equals(weight.name() + "_BIAS")) m.put(bias, base + ".bias");
    }
}
