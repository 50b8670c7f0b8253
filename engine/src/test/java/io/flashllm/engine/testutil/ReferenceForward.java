package io.flashllm.engine.testutil;

import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.reference.ScalarReference;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A deliberately plain forward pass for tests: every weight dequantized by {@link ScalarReference}
 * into {@code float[rows][cols]}, double-precision loops, the whole KV history kept in lists. It
 * reads tensors by their GGUF names and knows the architectures from their papers / HF code,
 * sharing nothing with the engine's model classes.
 */
public final class ReferenceForward {
    private final TinySpec s;
    private final Function<String, WeightTensor> tensors;
    private final List<List<double[][]>> keys = new ArrayList<>();
    private final List<List<double[][]>> values = new ArrayList<>();
    // The last step's hidden state after the final norm, where the classifier starts.
    private double[] lastHidden;

    public ReferenceForward(TinySpec spec, Function<String, WeightTensor> tensors) {
        this.s = spec;
        this.tensors = tensors;
        for (int l = 0; l < spec.layers(); l++) {
            keys.add(new ArrayList<>());
            values.add(new ArrayList<>());
        }
    }

    /** Logits after each token of {@code tokens}, fed at positions 0, 1, ... */
    public float[][] run(int[] tokens) {
        float[][] out = new float[tokens.length][];
        for (int p = 0; p < tokens.length; p++) out[p] = step(tokens[p], p);
        return out;
    }

    /** The final hidden state (after the final norm, before any output projection) after each token. */
    public float[][] hiddenStates(int[] tokens) {
        float[][] out = new float[tokens.length][];
        for (int p = 0; p < tokens.length; p++) {
            step(tokens[p], p);
            out[p] = toFloat(lastHidden);
        }
        return out;
    }

    public float[] step(int token, int pos) {
        return s.opt() ? optStep(token, pos) : llamaStep(token, pos);
    }

    private float[] llamaStep(int token, int pos) {
        double[] x = row("token_embd.weight", token);
        if (s.gemma()) {
            for (int i = 0; i < x.length; i++) x[i] *= Math.sqrt(s.dim());
        }
        // Granite scales the embedding, each sub-block's output before the residual add, and the logits.
        double residual = s.granite() ? TinySpec.GRANITE_RESIDUAL : 1;
        if (s.granite()) {
            for (int i = 0; i < x.length; i++) x[i] *= TinySpec.GRANITE_EMBEDDING;
        }
        for (int l = 0; l < s.layers(); l++) {
            String b = "blk." + l + ".";
            double[] h = rmsnorm(x, vec(b + "attn_norm.weight"));
            double[] q, k, v;
            if (s.phi3()) {
                // One product for all three: q's rows first, then k's, then v's.
                double[] qkv = linear(b + "attn_qkv", h);
                int qd = s.heads() * s.headDim(), kd = s.kvHeads() * s.headDim();
                q = java.util.Arrays.copyOfRange(qkv, 0, qd);
                k = java.util.Arrays.copyOfRange(qkv, qd, qd + kd);
                v = java.util.Arrays.copyOfRange(qkv, qd + kd, qd + 2 * kd);
            } else {
                q = linear(b + "attn_q", h);
                k = linear(b + "attn_k", h);
                v = linear(b + "attn_v", h);
            }
            if (s.qkNorm()) {
                // Qwen3: each head normalized on its own, one gain for every head, before the rotation.
                for (int hh = 0; hh < s.heads(); hh++) normHead(q, hh, vec(b + "attn_q_norm.weight"));
                for (int hh = 0; hh < s.kvHeads(); hh++) normHead(k, hh, vec(b + "attn_k_norm.weight"));
            }
            // Gemma 3's windowed layers rotate with base 10,000 and no scaling; its global ones with the
            // model's base, slowed by the linear factor.
            boolean local = s.gemma3() && !s.globalLayer(l);
            double theta = local ? 10000 : s.ropeTheta();
            double slower = s.gemma3() && !local ? TinySpec.GEMMA3_ROPE_SCALE : 1;
            for (int hh = 0; hh < s.heads(); hh++) rope(q, hh * s.headDim(), pos, theta, slower);
            for (int hh = 0; hh < s.kvHeads(); hh++) rope(k, hh * s.headDim(), pos, theta, slower);
            int window = s.gemma() || s.gptOss() ? (s.globalLayer(l) ? 0 : s.window()) : s.window();
            double[] sinks = s.gptOss() ? vec(b + "attn_sinks.weight") : null;
            double[] att = attention(l, q, k, v, window, s.gemma2() ? TinySpec.GEMMA2_ATTN_CAP : 0, sinks);
            double[] o = linear(b + "attn_output", att);
            if (s.gemma()) o = rmsnorm(o, vec(b + "post_attention_norm.weight"));
            for (int i = 0; i < s.dim(); i++) x[i] += residual * o[i];

            // llama.cpp's files name gpt-oss's norm in front of the FFN after the attention.
            double[] f = rmsnorm(x, vec(b + (s.gptOss() ? "post_attention_norm.weight" : "ffn_norm.weight")));
            if (s.moe()) {
                double[] d = s.gptOss() ? gptOssExperts(b, f) : mixtureOfExperts(b, f);
                for (int i = 0; i < s.dim(); i++) x[i] += residual * d[i];
                continue;
            }
            double[] g, u;
            if (s.phi3()) {
                // Phi-3's up product is twice as wide: the gate's half first.
                double[] gu = linear(b + "ffn_up", f);
                g = java.util.Arrays.copyOfRange(gu, 0, s.ffnDim());
                u = java.util.Arrays.copyOfRange(gu, s.ffnDim(), 2 * s.ffnDim());
            } else {
                g = linear(b + "ffn_gate", f);
                u = linear(b + "ffn_up", f);
            }
            double[] act = new double[s.ffnDim()];
            for (int i = 0; i < act.length; i++) act[i] = activation(g[i]) * u[i];
            double[] d = linear(b + "ffn_down", act);
            if (s.gemma()) d = rmsnorm(d, vec(b + "post_ffw_norm.weight"));
            for (int i = 0; i < s.dim(); i++) x[i] += residual * d[i];
        }
        x = rmsnorm(x, vec("output_norm.weight"));
        lastHidden = x;
        double[] logits = matvec(tensors.apply("output.weight") != null ? "output.weight" : "token_embd.weight", x);
        if (s.gemma2()) {
            double c = TinySpec.GEMMA2_FINAL_CAP;
            for (int i = 0; i < logits.length; i++) logits[i] = c * Math.tanh(logits[i] / c);
        }
        if (s.granite()) {
            for (int i = 0; i < logits.length; i++) logits[i] /= TinySpec.GRANITE_LOGIT;
        }
        return toFloat(logits);
    }

    /**
     * Mixtral's and Qwen3-MoE's FFN as their papers and HF code have it: softmax over the router's scores,
     * the top-k experts (ties to the lower index), their probabilities renormalized to sum to one, and the
     * experts' SwiGLU outputs summed with those weights.
     */
    private double[] mixtureOfExperts(String b, double[] f) {
        double[] p = matvec(b + "ffn_gate_inp.weight", f);
        double max = java.util.Arrays.stream(p).max().orElseThrow();
        double sum = 0;
        for (int i = 0; i < p.length; i++) sum += p[i] = Math.exp(p[i] - max);
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        Integer[] order = new Integer[p.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, (i, j) -> p[i] != p[j] ? Double.compare(p[j], p[i]) : Integer.compare(i, j));
        double chosen = 0;
        for (int k = 0; k < s.expertsUsed(); k++) chosen += p[order[k]];
        double[] out = new double[s.dim()];
        for (int k = 0; k < s.expertsUsed(); k++) {
            int e = order[k];
            double[] g = expertLinear(b, "gate", e, f, s.ffnDim());
            double[] u = expertLinear(b, "up", e, f, s.ffnDim());
            double[] act = new double[s.ffnDim()];
            for (int i = 0; i < act.length; i++) act[i] = activation(g[i]) * u[i];
            double[] d = expertLinear(b, "down", e, act, s.dim());
            for (int i = 0; i < out.length; i++) out[i] += p[e] / chosen * d[i];
        }
        return out;
    }

    /**
     * gpt-oss's FFN as OpenAI's reference code has it: the router's logits plus its bias, the top-k logits
     * (ties to the lower index) and a softmax over those k alone; each chosen expert's gate and up products
     * plus their biases, the gate clamped above at 7 and up to [-7, 7], {@code g * sigmoid(1.702 g) * (u + 1)},
     * the down product plus its bias, weighted by the softmax.
     */
    private double[] gptOssExperts(String b, double[] f) {
        double[] logits = linear(b + "ffn_gate_inp", f);
        Integer[] order = new Integer[logits.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, (i, j) -> logits[i] != logits[j] ? Double.compare(logits[j], logits[i]) : Integer.compare(i, j));
        int k = s.expertsUsed();
        double[] w = new double[k];
        double sum = 0;
        for (int j = 0; j < k; j++) sum += w[j] = Math.exp(logits[order[j]] - logits[order[0]]);
        double[] out = new double[s.dim()];
        for (int j = 0; j < k; j++) {
            int e = order[j];
            double[] g = expertLinear(b, "gate", e, f, s.ffnDim());
            double[] u = expertLinear(b, "up", e, f, s.ffnDim());
            double[] gb = expertBias(b + "ffn_gate_exps.bias", e), ub = expertBias(b + "ffn_up_exps.bias", e);
            double[] act = new double[s.ffnDim()];
            for (int i = 0; i < act.length; i++) {
                double gi = Math.min(g[i] + gb[i], TinySpec.GPT_OSS_LIMIT);
                double ui = Math.max(-TinySpec.GPT_OSS_LIMIT, Math.min(u[i] + ub[i], TinySpec.GPT_OSS_LIMIT));
                act[i] = gi / (1 + Math.exp(-TinySpec.GPT_OSS_ALPHA * gi)) * (ui + 1);
            }
            double[] d = expertLinear(b, "down", e, act, s.dim());
            double[] db = expertBias(b + "ffn_down_exps.bias", e);
            for (int i = 0; i < out.length; i++) out[i] += w[j] / sum * (d[i] + db[i]);
        }
        return out;
    }

    /** Expert {@code r}'s row of a layer's expert biases (a 2-D tensor, a row per expert). */
    private double[] expertBias(String name, int r) {
        return row(name, r);
    }

    /** Expert {@code e}'s {@code part} matrix times x: its rows of the merged tensor, or its own tensor. */
    private double[] expertLinear(String b, String part, int e, double[] x, int rows) {
        WeightTensor merged = tensors.apply(b + "ffn_" + part + "_exps.weight");
        if (merged == null) return matvec(b + "ffn_" + part + "." + e + ".weight", x);
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            float[] row = ScalarReference.dequantizeRow(merged, e * rows + r);
            double sum = 0;
            for (int c = 0; c < row.length; c++) sum += row[c] * x[c];
            y[r] = sum;
        }
        return y;
    }

    private float[] optStep(int token, int pos) {
        double[] x = row("token_embd.weight", token);
        if (s.wordDim() != s.dim()) x = matvec("proj_in.weight", x);
        double[] p = row("position_embd.weight", pos + 2);
        for (int i = 0; i < s.dim(); i++) x[i] += p[i];
        for (int l = 0; l < s.layers(); l++) {
            String b = "blk." + l + ".";
            double[] h = s.preNorm() ? layernorm(x, b + "attn_norm") : x;
            double[] att = attention(l, linear(b + "attn_q", h), linear(b + "attn_k", h), linear(b + "attn_v", h),
                    s.window(), 0, null);
            double[] o = linear(b + "attn_output", att);
            for (int i = 0; i < s.dim(); i++) x[i] += o[i];
            if (!s.preNorm()) x = layernorm(x, b + "attn_norm");

            h = s.preNorm() ? layernorm(x, b + "ffn_norm") : x;
            double[] u = linear(b + "ffn_up", h);
            for (int i = 0; i < u.length; i++) u[i] = Math.max(0, u[i]);
            double[] d = linear(b + "ffn_down", u);
            for (int i = 0; i < s.dim(); i++) x[i] += d[i];
            if (!s.preNorm()) x = layernorm(x, b + "ffn_norm");
        }
        if (s.preNorm()) x = layernorm(x, "output_norm");
        lastHidden = x;
        if (s.wordDim() != s.dim()) x = matvec("proj_out.weight", x);
        return toFloat(matvec(tensors.apply("output.weight") != null ? "output.weight" : "token_embd.weight", x));
    }

    private double activation(double g) {
        return switch (s.activation()) {
            case "silu" -> g / (1 + Math.exp(-g));
            case "relu" -> Math.max(0, g);
            case "fatrelu" -> g > s.threshold() ? g : 0;
            case "swiglu-oai" -> throw new IllegalStateException("gpt-oss's activation is in gptOssExperts");
            case "gelu" -> 0.5 * g * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (g + 0.044715 * g * g * g)));
            default -> throw new IllegalArgumentException(s.activation());
        };
    }

    /**
     * Causal attention of this token over every position so far (this one included); with {@code sinks}
     * (gpt-oss) head h's softmax has one more logit, sinks[h], whose weight goes to no value.
     */
    private double[] attention(int layer, double[] q, double[] k, double[] v, int window, double softcap, double[] sinks) {
        int hd = s.headDim();
        keys.get(layer).add(split(k));
        values.get(layer).add(split(v));
        int n = keys.get(layer).size();
        int first = window > 0 ? Math.max(0, n - window) : 0;
        double[] out = new double[s.heads() * hd];
        for (int h = 0; h < s.heads(); h++) {
            int kvh = h / (s.heads() / s.kvHeads());
            double[] score = new double[n];
            double max = Double.NEGATIVE_INFINITY;
            for (int t = first; t < n; t++) {
                double dot = 0;
                for (int i = 0; i < hd; i++) dot += q[h * hd + i] * keys.get(layer).get(t)[kvh][i];
                score[t] = dot * s.attentionScale();
                if (softcap > 0) score[t] = softcap * Math.tanh(score[t] / softcap);
                max = Math.max(max, score[t]);
            }
            if (sinks != null) max = Math.max(max, sinks[h]);
            double sum = sinks == null ? 0 : Math.exp(sinks[h] - max);
            for (int t = first; t < n; t++) sum += score[t] = Math.exp(score[t] - max);
            for (int t = first; t < n; t++) {
                for (int i = 0; i < hd; i++) out[h * hd + i] += score[t] / sum * values.get(layer).get(t)[kvh][i];
            }
        }
        return out;
    }

    private double[][] split(double[] kv) {
        double[][] heads = new double[s.kvHeads()][s.headDim()];
        for (int h = 0; h < s.kvHeads(); h++) System.arraycopy(kv, h * s.headDim(), heads[h], 0, s.headDim());
        return heads;
    }

    /** Rotates one head in place: adjacent pairs (GGUF llama) or element i with i + d/2 (HF, GGUF qwen2). */
    private void rope(double[] v, int off, int pos, double theta, double slower) {
        int rot = s.rotaryDim();
        WeightTensor factors = tensors.apply("rope_freqs.weight");
        if (s.phi3()) {
            // LongRoPE: the context (64) is past the original one, so the long factors.
            factors = tensors.apply(s.context() > TinySpec.PHI3_ORIGINAL_CONTEXT ? "rope_factors_long.weight"
                    : "rope_factors_short.weight");
        }
        for (int i = 0; i < rot / 2; i++) {
            double angle = pos / slower * Math.pow(theta, -2.0 * i / rot);
            if (factors != null) angle /= ScalarReference.dequantizeRow(factors, 0)[i];
            if (s.gptOss()) angle = pos * yarnInverseFrequency(i, rot, theta);
            int a = s.ropeInterleaved() ? off + 2 * i : off + i;
            int b = s.ropeInterleaved() ? off + 2 * i + 1 : off + i + rot / 2;
            double x0 = v[a];
            double x1 = v[b];
            double m = s.phi3() ? TinySpec.PHI3_ATTN_FACTOR
                    : s.gptOss() ? 1 + 0.1 * Math.log(TinySpec.GPT_OSS_YARN_FACTOR) : 1;
            v[a] = m * (x0 * Math.cos(angle) - x1 * Math.sin(angle));
            v[b] = m * (x0 * Math.sin(angle) + x1 * Math.cos(angle));
        }
    }

    /**
     * YaRN's frequency of pair i (the YaRN paper, and Hugging Face's {@code _compute_yarn_parameters} with its
     * bounds rounded outwards as llama.cpp rounds them): the pairs that turn more than beta_fast = 32 times
     * within the original context keep their frequency, those turning less than beta_slow = 1 times are slowed
     * by the factor, a linear ramp between.
     */
    private static double yarnInverseFrequency(int i, int rot, double theta) {
        double factor = TinySpec.GPT_OSS_YARN_FACTOR;
        double original = TinySpec.GPT_OSS_ORIGINAL_CONTEXT;
        java.util.function.DoubleUnaryOperator dimOf = turns -> rot * Math.log(original / (turns * 2 * Math.PI))
                / (2 * Math.log(theta));
        double low = Math.max(0, Math.floor(dimOf.applyAsDouble(32)));
        double high = Math.min(rot - 1, Math.ceil(dimOf.applyAsDouble(1)));
        double ramp = Math.min(1, Math.max(0, (i - low) / Math.max(0.001, high - low)));
        double extrapolation = Math.pow(theta, -2.0 * i / rot);
        double interpolation = extrapolation / factor;
        return interpolation * ramp + extrapolation * (1 - ramp);
    }

    private double[] rmsnorm(double[] x, double[] w) {
        double ss = 0;
        for (double d : x) ss += d * d;
        double scale = 1 / Math.sqrt(ss / x.length + s.eps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] * scale * w[i];
        return out;
    }

    private void normHead(double[] v, int head, double[] gain) {
        int hd = s.headDim();
        double[] one = new double[hd];
        System.arraycopy(v, head * hd, one, 0, hd);
        System.arraycopy(rmsnorm(one, gain), 0, v, head * hd, hd);
    }

    private double[] layernorm(double[] x, String base) {
        double mean = 0;
        for (double d : x) mean += d;
        mean /= x.length;
        double var = 0;
        for (double d : x) var += (d - mean) * (d - mean);
        var /= x.length;
        double[] w = vec(base + ".weight");
        double[] b = tensors.apply(base + ".bias") == null ? new double[x.length] : vec(base + ".bias");
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (x[i] - mean) / Math.sqrt(var + s.eps()) * w[i] + b[i];
        return out;
    }

    /** W·x plus the bias when the file has one. */
    private double[] linear(String base, double[] x) {
        double[] y = matvec(base + ".weight", x);
        if (tensors.apply(base + ".bias") != null) {
            double[] b = vec(base + ".bias");
            for (int i = 0; i < y.length; i++) y[i] += b[i];
        }
        return y;
    }

    private double[] matvec(String name, double[] x) {
        WeightTensor w = require(name);
        double[] y = new double[w.rows()];
        for (int r = 0; r < w.rows(); r++) {
            float[] row = ScalarReference.dequantizeRow(w, r);
            if (row.length != x.length) throw new IllegalArgumentException(name + ": " + row.length + " cols vs " + x.length);
            double sum = 0;
            for (int c = 0; c < row.length; c++) sum += row[c] * x[c];
            y[r] = sum;
        }
        return y;
    }

    private double[] row(String name, int r) {
        float[] f = ScalarReference.dequantizeRow(require(name), r);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private double[] vec(String name) {
        return row(name, 0);
    }

    private WeightTensor require(String name) {
        WeightTensor w = tensors.apply(name);
        if (w == null) throw new IllegalArgumentException("reference: no tensor " + name);
        return w;
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }
}
