package io.flashllm.engine.testutil;

import io.flashllm.flashstore.writer.GgufValue;
import io.flashllm.flashstore.writer.GgufWriter;
import io.flashllm.flashstore.writer.Quantizer;
import io.flashllm.flashstore.writer.SafetensorsWriter;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.reference.ScalarReference;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Writes a random {@link TinySpec} model as a GGUF file and as a Hugging Face directory holding the
 * same values: the HF weights are the GGUF weights after quantization, converted the way the real
 * converters do (Llama q/k rows un-permuted back to HF's half-split order, OPT names mapped), so
 * both files must give the same logits. Tensors are kept here as {@code float[rows*cols]} in GGUF
 * naming and GGUF (interleaved-RoPE) row order.
 */
public final class TinyModels {
    private final TinySpec s;
    /** GGUF name to (rows, cols, values after the quantization round trip). */
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final Random random;

    /** {@code experts} above 1: a merged expert tensor, {@code rows} rows per expert, written 3-D. */
    record Tensor(int rows, int cols, float[] values, GgmlType type, boolean vector, int experts) {
        Tensor(int rows, int cols, float[] values, GgmlType type, boolean vector) {
            this(rows, cols, values, type, vector, 1);
        }
    }

    /** Whether a mixture of experts is written one tensor per expert, as older Mixtral GGUF files hold it. */
    private boolean splitExperts;

    public TinyModels(TinySpec spec) {
        this.s = spec;
        this.random = new Random(spec.seed());
        generate();
    }

    private void generate() {
        int dim = s.dim();
        int qDim = s.heads() * s.headDim();
        int kvDim = s.kvHeads() * s.headDim();
        if (s.opt()) {
            matrix("token_embd.weight", s.vocab(), s.wordDim(), 1f);
            matrix("position_embd.weight", s.context() + 2, dim, 0.5f);
            if (s.wordDim() != dim) {
                matrix("proj_in.weight", dim, s.wordDim(), scale(s.wordDim()));
                matrix("proj_out.weight", s.wordDim(), dim, scale(dim));
            }
        } else {
            matrix("token_embd.weight", s.vocab(), dim, 1f);
        }
        for (int l = 0; l < s.layers(); l++) {
            String b = "blk." + l + ".";
            norm(b + "attn_norm", s.opt());
            if (s.phi3()) {
                matrix(b + "attn_qkv.weight", qDim + 2 * kvDim, dim, scale(dim)); // q rows, then k's, then v's
            } else {
                matrix(b + "attn_q.weight", qDim, dim, scale(dim));
                matrix(b + "attn_k.weight", kvDim, dim, scale(dim));
                matrix(b + "attn_v.weight", kvDim, dim, scale(dim));
            }
            matrix(b + "attn_output.weight", dim, qDim, scale(qDim));
            if (s.gptOss()) {
                bias(b + "attn_output.bias", dim);
                // Sinks of the order of the scores, so that some heads give them much of the weight.
                float[] sinks = new float[s.heads()];
                for (int h = 0; h < sinks.length; h++) sinks[h] = (random.nextFloat() - 0.3f) * 3f;
                tensors.put(b + "attn_sinks.weight", new Tensor(1, sinks.length, sinks, GgmlType.F32, true));
            }
            if (s.gemma()) {
                norm(b + "post_attention_norm", false);
                norm(b + "post_ffw_norm", false);
            }
            if (s.qkNorm()) {
                gain(b + "attn_q_norm.weight", s.headDim());
                gain(b + "attn_k_norm.weight", s.headDim());
            }
            if (s.qkvBias()) {
                bias(b + "attn_q.bias", qDim);
                bias(b + "attn_k.bias", kvDim);
                bias(b + "attn_v.bias", kvDim);
            }
            norm(b + (s.gptOss() ? "post_attention_norm" : "ffn_norm"), s.opt());
            if (s.moe()) {
                experts(b, dim);
            } else if (s.phi3()) {
                matrix(b + "ffn_up.weight", 2 * s.ffnDim(), dim, scale(dim)); // gate rows, then up's
            } else {
                if (!s.opt()) matrix(b + "ffn_gate.weight", s.ffnDim(), dim, scale(dim));
                matrix(b + "ffn_up.weight", s.ffnDim(), dim, scale(dim));
            }
            if (!s.moe()) matrix(b + "ffn_down.weight", dim, s.ffnDim(), scale(s.ffnDim()));
            if (s.opt()) {
                bias(b + "attn_output.bias", dim);
                bias(b + "ffn_up.bias", s.ffnDim());
                bias(b + "ffn_down.bias", dim);
            }
        }
        if (!s.opt() || s.preNorm()) norm("output_norm", s.opt());
        if (!s.tied()) matrix("output.weight", s.vocab(), s.opt() ? s.wordDim() : dim, scale(dim));
        if (s.phi3()) {
            float[] lng = new float[s.rotaryDim() / 2], shrt = new float[s.rotaryDim() / 2];
            for (int i = 0; i < lng.length; i++) {
                lng[i] = 1f + 1.5f * i;
                shrt[i] = 1f + 0.25f * i;
            }
            tensors.put("rope_factors_long.weight", new Tensor(1, lng.length, lng, GgmlType.F32, true));
            tensors.put("rope_factors_short.weight", new Tensor(1, shrt.length, shrt, GgmlType.F32, true));
        }
    }

    /**
     * A mixture of experts' layer as llama.cpp writes it: the router (F32, as llama.cpp's quantizer leaves it)
     * and every expert's gate, up and down stacked in one tensor each.
     */
    private void experts(String b, int dim) {
        int e = s.experts();
        matrix(b + "ffn_gate_inp.weight", e, dim, scale(dim) * 4, GgmlType.F32);
        matrix(b + "ffn_gate_exps.weight", e * s.ffnDim(), dim, scale(dim), s.weightType());
        matrix(b + "ffn_up_exps.weight", e * s.ffnDim(), dim, scale(dim), s.weightType());
        matrix(b + "ffn_down_exps.weight", e * dim, s.ffnDim(), scale(s.ffnDim()), s.weightType());
        for (String n : new String[] {"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"}) {
            Tensor t = tensors.get(b + n + ".weight");
            tensors.put(b + n + ".weight", new Tensor(t.rows() / e, t.cols(), t.values(), t.type(), false, e));
        }
        if (s.gptOss()) {
            // gpt-oss: the router's bias, and a bias row per expert for gate, up and down (2-D, F32).
            bias(b + "ffn_gate_inp.bias", e);
            matrix(b + "ffn_gate_exps.bias", e, s.ffnDim(), 0.3f, GgmlType.F32);
            matrix(b + "ffn_up_exps.bias", e, s.ffnDim(), 0.3f, GgmlType.F32);
            matrix(b + "ffn_down_exps.bias", e, dim, 0.3f, GgmlType.F32);
        }
    }

    /** The experts written one tensor per expert ({@code blk.N.ffn_gate.E.weight}), as older Mixtral files have them. */
    public TinyModels withSplitExperts() {
        splitExperts = true;
        return this;
    }

    private static float scale(int fanIn) {
        return (float) (1.7 / Math.sqrt(fanIn));
    }

    private void matrix(String name, int rows, int cols, float scale) {
        matrix(name, rows, cols, scale, s.weightType());
    }

    private void matrix(String name, int rows, int cols, float scale, GgmlType type) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = (random.nextFloat() * 2 - 1) * scale;
        // Store what the file will hold, so the HF copy and the reference see identical values.
        byte[] bytes = Quantizer.quantize(type, v);
        float[] back = new float[v.length];
        ScalarReference.dequantize(type, MemorySegment.ofArray(bytes), 0, back, 0, back.length);
        tensors.put(name, new Tensor(rows, cols, back, type, false));
    }

    private void norm(String base, boolean withBias) {
        gain(base + ".weight", s.dim());
        if (withBias) bias(base + ".bias", s.dim());
    }

    private void gain(String name, int n) {
        float[] w = new float[n];
        for (int i = 0; i < w.length; i++) w[i] = 1f + (random.nextFloat() - 0.5f) * 0.4f;
        tensors.put(name, new Tensor(1, n, w, GgmlType.F32, true));
    }

    private void bias(String name, int n) {
        float[] b = new float[n];
        for (int i = 0; i < n; i++) b[i] = (random.nextFloat() - 0.5f) * 0.2f;
        tensors.put(name, new Tensor(1, n, b, GgmlType.F32, true));
    }

    /** Adds Llama 3 style per-frequency divisors as rope_freqs.weight (GGUF only; HF computes them from config). */
    public TinyModels withRopeFactors(float[] factors) {
        tensors.put("rope_freqs.weight", new Tensor(1, factors.length, factors.clone(), GgmlType.F32, true));
        return this;
    }

    /** Writes the GGUF file with {@code extraMetadata} (e.g. a tokenizer) added. */
    public Path writeGguf(Path file, Map<String, ?> extraMetadata) throws IOException {
        GgufWriter w = new GgufWriter(file);
        String a = s.arch();
        w.putString("general.architecture", a);
        w.putString("general.name", "tiny-" + a);
        w.putU32(a + ".embedding_length", s.dim());
        w.putU32(a + ".block_count", s.layers());
        w.putU32(a + ".feed_forward_length", s.moe() && a.equals("qwen3moe") ? s.ffnDim() * s.expertsUsed() : s.ffnDim());
        if (s.moe()) {
            w.putU32(a + ".expert_count", s.experts());
            w.putU32(a + ".expert_used_count", s.expertsUsed());
            if (a.equals("qwen3moe") || s.gptOss()) w.putU32(a + ".expert_feed_forward_length", s.ffnDim());
        }
        w.putU32(a + ".attention.head_count", s.heads());
        w.putU32(a + ".context_length", s.context());
        if (s.opt()) {
            w.putF32(a + ".attention.layer_norm_epsilon", s.eps());
            w.putU32(a + ".word_embed_proj_dim", s.wordDim());
            w.putBool(a + ".layer_norm_before", s.preNorm());
        } else {
            w.putU32(a + ".attention.head_count_kv", s.kvHeads());
            w.putF32(a + ".attention.layer_norm_rms_epsilon", s.eps());
            w.putF32(a + ".rope.freq_base", s.ropeTheta());
            w.putU32(a + ".rope.dimension_count", s.rotaryDim());
            if (s.phi3()) {
                w.putString(a + ".rope.scaling.type", "longrope");
                w.putF32(a + ".rope.scaling.attn_factor", TinySpec.PHI3_ATTN_FACTOR);
                w.putU32(a + ".rope.scaling.original_context_length", TinySpec.PHI3_ORIGINAL_CONTEXT);
                w.putU32(a + ".attention.sliding_window", 0);
            }
            if (s.headDim() != s.dim() / s.heads()) {
                w.putU32(a + ".attention.key_length", s.headDim());
                w.putU32(a + ".attention.value_length", s.headDim());
            }
            if (s.window() > 0) w.putU32(a + ".attention.sliding_window", s.window());
            if (s.gptOss()) {
                w.putString(a + ".rope.scaling.type", "yarn");
                w.putF32(a + ".rope.scaling.factor", TinySpec.GPT_OSS_YARN_FACTOR);
                w.putU32(a + ".rope.scaling.original_context_length", TinySpec.GPT_OSS_ORIGINAL_CONTEXT);
            }
            if (s.gemma3()) {
                w.putString(a + ".rope.scaling.type", "linear");
                w.putF32(a + ".rope.scaling.factor", TinySpec.GEMMA3_ROPE_SCALE);
            }
            if (s.granite()) {
                w.putF32(a + ".embedding_scale", TinySpec.GRANITE_EMBEDDING);
                w.putF32(a + ".residual_scale", TinySpec.GRANITE_RESIDUAL);
                w.putF32(a + ".attention.scale", TinySpec.GRANITE_ATTENTION);
                w.putF32(a + ".logit_scale", TinySpec.GRANITE_LOGIT);
            }
            if (s.gemma2()) {
                w.putF32(a + ".attn_logit_softcapping", TinySpec.GEMMA2_ATTN_CAP);
                w.putF32(a + ".final_logit_softcapping", TinySpec.GEMMA2_FINAL_CAP);
            }
            // Gemma's GELU is its architecture's own: llama.cpp's files do not name it.
            if (!s.activation().equals("silu") && !s.gemma() && !s.gptOss()) {
                w.putString("flashllm.ffn.activation", s.activation());
                if (s.activation().equals("fatrelu")) w.putF32("flashllm.ffn.fatrelu_threshold", s.threshold());
            }
        }
        if (extraMetadata != null) extraMetadata.forEach((k, v) -> w.put(k, GgufValue.infer(v)));
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            if (t.experts() > 1 && splitExperts) {
                // blk.N.ffn_gate_exps.weight -> blk.N.ffn_gate.E.weight, one matrix per expert.
                String base = e.getKey().replace("_exps.weight", ".");
                for (int x = 0; x < t.experts(); x++) {
                    byte[] bytes = Quantizer.quantize(t.type(), expert(t, x));
                    w.addTensor(base + x + ".weight", t.type(), new long[] {t.cols(), t.rows()}, out -> out.put(bytes));
                }
                continue;
            }
            long[] shape = t.vector() ? new long[] {t.cols()}
                    : t.experts() > 1 ? new long[] {t.cols(), t.rows(), t.experts()} : new long[] {t.cols(), t.rows()};
            byte[] bytes = Quantizer.quantize(t.type(), t.values());
            w.addTensor(e.getKey(), t.type(), shape, out -> out.put(bytes));
        }
        w.write();
        return file;
    }

    /** Writes config.json, model.safetensors (F32, or the 16-bit type of the GGUF weights) and {@code tokenizerJson} (if given) into {@code dir}. */
    public Path writeHf(Path dir, String tokenizerJson) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter w = new SafetensorsWriter();
        Map<String, String> names = s.opt() ? optNames() : llamaNames();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            if (t.experts() > 1) {
                // HF keeps each expert's matrix apart: model.layers.N.<experts>.E.<name>.weight.
                for (int x = 0; x < t.experts(); x++) {
                    byte[] bytes = Quantizer.quantize(hfType(t), expert(t, x));
                    w.addTensor(hfExpertName(e.getKey(), x), hfType(t), new long[] {t.rows(), t.cols()}, out -> out.put(bytes));
                }
                continue;
            }
            String hfName = hfName(names, e.getKey());
            float[] v = t.values();
            if (s.ropeInterleaved() && (e.getKey().contains("attn_q.") || e.getKey().contains("attn_k."))) {
                int heads = e.getKey().contains("attn_q.") ? s.heads() : s.kvHeads();
                v = toHalfSplit(v, heads, s.headDim(), t.vector() ? 1 : t.cols());
            }
            long[] shape = t.vector() ? new long[] {t.cols()} : new long[] {t.rows(), t.cols()};
            GgmlType dtype = hfType(t);
            byte[] bytes = Quantizer.quantize(dtype, v);
            w.addTensor(hfName, dtype, shape, out -> out.put(bytes));
        }
        w.writeModel(dir, Long.MAX_VALUE);
        Files.writeString(dir.resolve("config.json"), hfConfig(), StandardCharsets.UTF_8);
        if (tokenizerJson != null) Files.writeString(dir.resolve("tokenizer.json"), tokenizerJson, StandardCharsets.UTF_8);
        return dir;
    }

    /** 16-bit files stay 16-bit (exactly the same values); quantized ones are stored widened to F32. */
    private static GgmlType hfType(Tensor t) {
        return t.type() == GgmlType.F16 || t.type() == GgmlType.BF16 ? t.type() : GgmlType.F32;
    }

    /** Expert {@code x}'s rows of a merged expert tensor. */
    private static float[] expert(Tensor t, int x) {
        int n = t.rows() * t.cols();
        return java.util.Arrays.copyOfRange(t.values(), x * n, (x + 1) * n);
    }

    /** HF's name of expert {@code x}'s part of {@code gguf} (a {@code blk.N.ffn_*_exps.weight}): Mixtral's or Qwen3-MoE's. */
    private String hfExpertName(String gguf, int x) {
        String layer = gguf.substring("blk.".length(), gguf.indexOf('.', "blk.".length()));
        boolean mixtral = s.arch().equals("llama");
        String part = gguf.substring(gguf.lastIndexOf("ffn_") + 4, gguf.indexOf("_exps"));
        String name = mixtral ? switch (part) {
            case "gate" -> "w1";
            case "up" -> "w3";
            default -> "w2";
        } : part + "_proj";
        return "model.layers." + layer + (mixtral ? ".block_sparse_moe.experts." : ".mlp.experts.") + x + "." + name + ".weight";
    }

    /**
     * llama.cpp's converter permutes HF rows (head, half, i) to (head, i, half) so adjacent pairs rotate
     * together; this is the inverse: GGUF row (h, 2i + half) goes back to HF row (h, half * d/2 + i).
     */
    static float[] toHalfSplit(float[] v, int heads, int headDim, int cols) {
        float[] out = new float[v.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < headDim / 2; i++) {
                for (int half = 0; half < 2; half++) {
                    int ggufRow = h * headDim + 2 * i + half;
                    int hfRow = h * headDim + half * (headDim / 2) + i;
                    System.arraycopy(v, ggufRow * cols, out, hfRow * cols, cols);
                }
            }
        }
        return out;
    }

    private static String hfName(Map<String, String> names, String gguf) {
        for (Map.Entry<String, String> e : names.entrySet()) {
            String k = e.getKey();
            if (k.contains("{N}")) {
                String[] parts = k.split("\\{N\\}");
                if (gguf.startsWith(parts[0]) && gguf.endsWith(parts[1])) {
                    String n = gguf.substring(parts[0].length(), gguf.length() - parts[1].length());
                    if (n.chars().allMatch(Character::isDigit)) return e.getValue().replace("{N}", n);
                }
            } else if (k.equals(gguf)) {
                return e.getValue();
            }
        }
        throw new IllegalStateException("no HF name for " + gguf);
    }

    private Map<String, String> llamaNames() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("token_embd.weight", "model.embed_tokens.weight");
        m.put("output_norm.weight", "model.norm.weight");
        m.put("output.weight", "lm_head.weight");
        String[][] layer = {
                {"attn_norm.weight", "input_layernorm.weight"},
                {"attn_q.weight", "self_attn.q_proj.weight"}, {"attn_q.bias", "self_attn.q_proj.bias"},
                {"attn_k.weight", "self_attn.k_proj.weight"}, {"attn_k.bias", "self_attn.k_proj.bias"},
                {"attn_v.weight", "self_attn.v_proj.weight"}, {"attn_v.bias", "self_attn.v_proj.bias"},
                {"attn_output.weight", "self_attn.o_proj.weight"},
                {"attn_q_norm.weight", "self_attn.q_norm.weight"}, {"attn_k_norm.weight", "self_attn.k_norm.weight"},
                {"ffn_norm.weight", "post_attention_layernorm.weight"},
                {"ffn_gate.weight", "mlp.gate_proj.weight"},
                {"ffn_up.weight", "mlp.up_proj.weight"},
                {"ffn_down.weight", "mlp.down_proj.weight"},
                {"ffn_gate_inp.weight", s.arch().equals("llama") ? "block_sparse_moe.gate.weight" : "mlp.gate.weight"}};
        for (String[] p : layer) m.put("blk.{N}." + p[0], "model.layers.{N}." + p[1]);
        return m;
    }

    private static Map<String, String> optNames() {
        Map<String, String> m = new LinkedHashMap<>();
        String d = "model.decoder.";
        m.put("token_embd.weight", d + "embed_tokens.weight");
        m.put("position_embd.weight", d + "embed_positions.weight");
        m.put("proj_in.weight", d + "project_in.weight");
        m.put("proj_out.weight", d + "project_out.weight");
        m.put("output_norm.weight", d + "final_layer_norm.weight");
        m.put("output_norm.bias", d + "final_layer_norm.bias");
        m.put("output.weight", "lm_head.weight");
        String[][] layer = {
                {"attn_norm", "self_attn_layer_norm"}, {"attn_q", "self_attn.q_proj"}, {"attn_k", "self_attn.k_proj"},
                {"attn_v", "self_attn.v_proj"}, {"attn_output", "self_attn.out_proj"},
                {"ffn_norm", "final_layer_norm"}, {"ffn_up", "fc1"}, {"ffn_down", "fc2"}};
        for (String[] p : layer) {
            m.put("blk.{N}." + p[0] + ".weight", d + "layers.{N}." + p[1] + ".weight");
            m.put("blk.{N}." + p[0] + ".bias", d + "layers.{N}." + p[1] + ".bias");
        }
        return m;
    }

    private String hfConfig() {
        StringBuilder j = new StringBuilder("{\n");
        if (s.opt()) {
            j.append("  \"architectures\": [\"OPTForCausalLM\"],\n  \"model_type\": \"opt\",\n");
            j.append("  \"ffn_dim\": ").append(s.ffnDim()).append(",\n");
            j.append("  \"word_embed_proj_dim\": ").append(s.wordDim()).append(",\n");
            j.append("  \"do_layer_norm_before\": ").append(s.preNorm()).append(",\n");
            j.append("  \"activation_function\": \"relu\",\n  \"enable_bias\": true,\n");
        } else {
            String cls = switch (s.arch()) {
                case "qwen2" -> "Qwen2ForCausalLM";
                case "qwen3" -> "Qwen3ForCausalLM";
                case "qwen3moe" -> "Qwen3MoeForCausalLM";
                case "granite" -> "GraniteForCausalLM";
                default -> s.moe() ? "MixtralForCausalLM" : "LlamaForCausalLM";
            };
            String type = switch (cls) {
                case "Qwen3MoeForCausalLM" -> "qwen3_moe";
                case "MixtralForCausalLM" -> "mixtral";
                default -> s.arch();
            };
            j.append("  \"architectures\": [\"").append(cls).append("\"],\n");
            j.append("  \"model_type\": \"").append(type).append("\",\n");
            if (cls.equals("Qwen3MoeForCausalLM")) {
                j.append("  \"intermediate_size\": ").append(s.ffnDim() * 3).append(",\n");
                j.append("  \"moe_intermediate_size\": ").append(s.ffnDim()).append(",\n");
                j.append("  \"num_experts\": ").append(s.experts()).append(",\n");
                j.append("  \"norm_topk_prob\": true,\n  \"decoder_sparse_step\": 1,\n  \"mlp_only_layers\": [],\n");
            } else {
                j.append("  \"intermediate_size\": ").append(s.ffnDim()).append(",\n");
                if (s.moe()) j.append("  \"num_local_experts\": ").append(s.experts()).append(",\n");
            }
            if (s.moe()) j.append("  \"num_experts_per_tok\": ").append(s.expertsUsed()).append(",\n");
            if (s.granite()) {
                j.append("  \"embedding_multiplier\": ").append(TinySpec.GRANITE_EMBEDDING).append(",\n");
                j.append("  \"residual_multiplier\": ").append(TinySpec.GRANITE_RESIDUAL).append(",\n");
                j.append("  \"attention_multiplier\": ").append(TinySpec.GRANITE_ATTENTION).append(",\n");
                j.append("  \"logits_scaling\": ").append(TinySpec.GRANITE_LOGIT).append(",\n");
            }
            j.append("  \"num_key_value_heads\": ").append(s.kvHeads()).append(",\n");
            j.append("  \"rms_norm_eps\": ").append(s.eps()).append(",\n");
            j.append("  \"rope_theta\": ").append(s.ropeTheta()).append(",\n");
            j.append("  \"hidden_act\": \"").append(s.activation()).append("\",\n");
            if (s.headDim() != s.dim() / s.heads()) j.append("  \"head_dim\": ").append(s.headDim()).append(",\n");
            if (s.activation().equals("fatrelu")) j.append("  \"hidden_act_param\": ").append(s.threshold()).append(",\n");
        }
        j.append("  \"hidden_size\": ").append(s.dim()).append(",\n");
        j.append("  \"num_hidden_layers\": ").append(s.layers()).append(",\n");
        j.append("  \"num_attention_heads\": ").append(s.heads()).append(",\n");
        j.append("  \"max_position_embeddings\": ").append(s.context()).append(",\n");
        j.append("  \"tie_word_embeddings\": ").append(s.tied()).append(",\n");
        j.append("  \"vocab_size\": ").append(s.vocab()).append("\n}\n");
        return j.toString();
    }
}
