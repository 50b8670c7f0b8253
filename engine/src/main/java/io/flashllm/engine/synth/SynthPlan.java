package io.flashllm.engine.synth;

import io.flashllm.kernels.GgmlType;

import java.util.ArrayList;
import java.util.List;

/**
 * The tensors of a synthesized model, with llama.cpp's GGUF names and Hugging Face's names, and
 * their initialisation: matrices uniform with std 1/sqrt(fan_in) (so a matvec keeps the scale of
 * its input), norm weights 1 ± small noise, biases small, embeddings std 1/sqrt(dim).
 */
final class SynthPlan {
    private static final float NORM_NOISE = 0.05f;
    private static final float BIAS_STD = 0.02f;

    private SynthPlan() {}

    static List<SynthTensor> tensors(SynthSpec s) {
        return s.arch().llamaFamily() ? llama(s) : opt(s);
    }

    /** Rows of OPT's learned position table: HF keeps 2 unused rows before position 0. */
    static final int OPT_POSITION_OFFSET = 2;

    private static List<SynthTensor> llama(SynthSpec s) {
        List<SynthTensor> t = new ArrayList<>();
        int hd = s.headDim(), q = s.heads() * hd, kv = s.kvHeads() * hd;
        boolean permute = s.arch().permutesQk();
        boolean gemma = s.arch().gemma();
        boolean phi3 = s.arch() == SynthArch.PHI3;
        boolean gptOss = s.arch() == SynthArch.GPT_OSS;
        t.add(matrix(s, "model.embed_tokens.weight", "token_embd.weight", "token_embd", -1, s.vocab(), s.dim(), 0));
        for (int l = 0; l < s.layers(); l++) {
            String h = "model.layers." + l + ".", g = "blk." + l + ".";
            t.add(norm(s, h + "input_layernorm.weight", g + "attn_norm.weight", l, s.dim()));
            if (phi3) {
                // q, k and v stacked in one matrix, as Phi-3 stores them.
                t.add(matrix(s, h + "self_attn.qkv_proj.weight", g + "attn_qkv.weight", "attn_qkv", l, q + 2L * kv,
                        s.dim(), 0));
            } else {
                t.add(matrix(s, h + "self_attn.q_proj.weight", g + "attn_q.weight", "attn_q", l, q, s.dim(),
                        permute ? s.heads() : 0));
                t.add(matrix(s, h + "self_attn.k_proj.weight", g + "attn_k.weight", "attn_k", l, kv, s.dim(),
                        permute ? s.kvHeads() : 0));
                t.add(matrix(s, h + "self_attn.v_proj.weight", g + "attn_v.weight", "attn_v", l, kv, s.dim(), 0));
            }
            if (gptOss) {
                t.add(bias(s, h + "self_attn.q_proj.bias", g + "attn_q.bias", l, q));
                t.add(bias(s, h + "self_attn.k_proj.bias", g + "attn_k.bias", l, kv));
                t.add(bias(s, h + "self_attn.v_proj.bias", g + "attn_v.bias", l, kv));
                // Sinks of the order of the scores, so that some heads give them much of the weight.
                t.add(new SynthTensor(h + "self_attn.sinks", g + "attn_sinks.weight", "sinks", l, 1, s.heads(), true,
                        0f, 1.5f, 0, GgmlType.F32, GgmlType.F32));
            }
            if (s.arch().qkNorm()) {
                t.add(norm(s, h + "self_attn.q_norm.weight", g + "attn_q_norm.weight", l, hd));
                t.add(norm(s, h + "self_attn.k_norm.weight", g + "attn_k_norm.weight", l, hd));
            }
            t.add(matrix(s, h + "self_attn.o_proj.weight", g + "attn_output.weight", "attn_output", l, s.dim(), q, 0));
            if (gptOss) {
                t.add(bias(s, h + "self_attn.o_proj.bias", g + "attn_output.bias", l, s.dim()));
                // llama.cpp names gpt-oss's norm in front of the FFN after the attention.
                t.add(norm(s, h + "post_attention_layernorm.weight", g + "post_attention_norm.weight", l, s.dim()));
            } else if (gemma) {
                t.add(norm(s, h + "post_attention_layernorm.weight", g + "post_attention_norm.weight", l, s.dim()));
                t.add(norm(s, h + "pre_feedforward_layernorm.weight", g + "ffn_norm.weight", l, s.dim()));
                t.add(norm(s, h + "post_feedforward_layernorm.weight", g + "post_ffw_norm.weight", l, s.dim()));
            } else if (!gptOss) {
                t.add(norm(s, h + "post_attention_layernorm.weight", g + "ffn_norm.weight", l, s.dim()));
            }
            if (s.experts() > 0) {
                experts(s, t, h, g, l);
            } else if (phi3) {
                // The gate's rows, then up's, in one matrix.
                t.add(matrix(s, h + "mlp.gate_up_proj.weight", g + "ffn_up.weight", "ffn_up", l, 2L * s.ffn(), s.dim(), 0));
            } else {
                t.add(matrix(s, h + "mlp.gate_proj.weight", g + "ffn_gate.weight", "ffn_gate", l, s.ffn(), s.dim(), 0));
                t.add(matrix(s, h + "mlp.up_proj.weight", g + "ffn_up.weight", "ffn_up", l, s.ffn(), s.dim(), 0));
            }
            if (s.experts() == 0) {
                t.add(matrix(s, h + "mlp.down_proj.weight", g + "ffn_down.weight", "ffn_down", l, s.dim(), s.ffn(), 0));
            }
        }
        t.add(norm(s, "model.norm.weight", "output_norm.weight", -1, s.dim()));
        // Gemma ties its classifier to the token embedding.
        if (!gemma) t.add(matrix(s, "lm_head.weight", "output.weight", "output", -1, s.vocab(), s.dim(), 0));
        return t;
    }

    /**
     * A mixture of experts' layer as llama.cpp writes it (GGUF only): the router, F32 as llama.cpp's quantizer
     * leaves it, and each of gate, up and down with every expert stacked in one tensor.
     */
    private static void experts(SynthSpec s, List<SynthTensor> t, String h, String g, int l) {
        int e = s.experts();
        // A router std a few times 1/sqrt(dim), so that routing prefers some experts as a trained one does.
        t.add(new SynthTensor(h + "mlp.gate.weight", g + "ffn_gate_inp.weight", "ffn_gate_inp", l, e, s.dim(), false,
                0f, (float) (4.0 / Math.sqrt(s.dim())), 0, GgmlType.F32, GgmlType.F32));
        boolean gptOss = s.arch() == SynthArch.GPT_OSS;
        if (gptOss) {
            // gpt-oss: a bias on the router, and per expert on each of gate, up and down (a row per expert).
            t.add(new SynthTensor(h + "mlp.gate.bias", g + "ffn_gate_inp.bias", "bias", l, 1, e, true, 0f, 0.5f, 0,
                    GgmlType.F32, GgmlType.F32));
            t.add(expertBias(h + "mlp.experts.gate_proj_bias", g + "ffn_gate_exps.bias", l, e, s.ffn()));
            t.add(expertBias(h + "mlp.experts.up_proj_bias", g + "ffn_up_exps.bias", l, e, s.ffn()));
            t.add(expertBias(h + "mlp.experts.down_proj_bias", g + "ffn_down_exps.bias", l, e, s.dim()));
        }
        t.add(stacked(matrix(s, h + "mlp.experts.gate_proj.weight", g + "ffn_gate_exps.weight", "ffn_gate_exps", l,
                (long) e * s.ffn(), s.dim(), 0), e));
        t.add(stacked(matrix(s, h + "mlp.experts.up_proj.weight", g + "ffn_up_exps.weight", "ffn_up_exps", l,
                (long) e * s.ffn(), s.dim(), 0), e));
        t.add(stacked(matrix(s, h + "mlp.experts.down_proj.weight", g + "ffn_down_exps.weight", "ffn_down_exps", l,
                (long) e * s.dim(), s.ffn(), 0), e));
    }

    /** A bias for each of a layer's experts, one row of {@code width} per expert, F32 (ggml shape width x experts). */
    private static SynthTensor expertBias(String hf, String gguf, int layer, int experts, int width) {
        return new SynthTensor(hf, gguf, "bias", layer, experts, width, false, 0f, 0.1f, 0, GgmlType.F32, GgmlType.F32);
    }

    private static SynthTensor stacked(SynthTensor m, int experts) {
        return new SynthTensor(m.hfName(), m.ggufName(), m.role(), m.layer(), m.rows(), m.cols(), false, m.center(),
                m.std(), 0, m.ggufType(), m.hfType(), experts);
    }

    /** OPT ties its output to the token embedding, so there is no lm_head / output tensor. */
    private static List<SynthTensor> opt(SynthSpec s) {
        List<SynthTensor> t = new ArrayList<>();
        String p = "model.decoder.";
        t.add(matrix(s, p + "embed_tokens.weight", "token_embd.weight", "token_embd", -1, s.vocab(), s.dim(), 0));
        t.add(matrix(s, p + "embed_positions.weight", "position_embd.weight", "position_embd", -1,
                s.contextLength() + OPT_POSITION_OFFSET, s.dim(), 0));
        for (int l = 0; l < s.layers(); l++) {
            String h = p + "layers." + l + ".", g = "blk." + l + ".";
            t.add(norm(s, h + "self_attn_layer_norm.weight", g + "attn_norm.weight", l, s.dim()));
            t.add(bias(s, h + "self_attn_layer_norm.bias", g + "attn_norm.bias", l, s.dim()));
            for (String[] n : new String[][] {{"q_proj", "attn_q"}, {"k_proj", "attn_k"}, {"v_proj", "attn_v"},
                    {"out_proj", "attn_output"}}) {
                t.add(matrix(s, h + "self_attn." + n[0] + ".weight", g + n[1] + ".weight", n[1], l, s.dim(), s.dim(), 0));
                t.add(bias(s, h + "self_attn." + n[0] + ".bias", g + n[1] + ".bias", l, s.dim()));
            }
            t.add(norm(s, h + "final_layer_norm.weight", g + "ffn_norm.weight", l, s.dim()));
            t.add(bias(s, h + "final_layer_norm.bias", g + "ffn_norm.bias", l, s.dim()));
            t.add(matrix(s, h + "fc1.weight", g + "ffn_up.weight", "ffn_up", l, s.ffn(), s.dim(), 0));
            t.add(bias(s, h + "fc1.bias", g + "ffn_up.bias", l, s.ffn()));
            t.add(matrix(s, h + "fc2.weight", g + "ffn_down.weight", "ffn_down", l, s.dim(), s.ffn(), 0));
            t.add(bias(s, h + "fc2.bias", g + "ffn_down.bias", l, s.dim()));
        }
        t.add(norm(s, p + "final_layer_norm.weight", "output_norm.weight", -1, s.dim()));
        t.add(bias(s, p + "final_layer_norm.bias", "output_norm.bias", -1, s.dim()));
        return t;
    }

    private static SynthTensor matrix(SynthSpec s, String hf, String gguf, String role, int layer,
                                      long rows, int cols, int permuteHeads) {
        float std = (float) (1.0 / Math.sqrt(cols));
        GgmlType ggufType = s.type().matrixType(role, Math.max(layer, 0), s.layers(), cols);
        return new SynthTensor(hf, gguf, role, layer, rows, cols, false, 0f, std, permuteHeads, ggufType, s.type().base);
    }

    /** Norms and biases stay F32 in GGUF, as llama.cpp keeps them. */
    private static SynthTensor norm(SynthSpec s, String hf, String gguf, int layer, int n) {
        return new SynthTensor(hf, gguf, "norm", layer, 1, n, true, 1f, NORM_NOISE, 0, GgmlType.F32,
                hfVectorType(s));
    }

    private static SynthTensor bias(SynthSpec s, String hf, String gguf, int layer, int n) {
        return new SynthTensor(hf, gguf, "bias", layer, 1, n, true, 0f, BIAS_STD, 0, GgmlType.F32, hfVectorType(s));
    }

    private static GgmlType hfVectorType(SynthSpec s) {
        return s.type().safetensors() ? s.type().base : GgmlType.F32;
    }
}
