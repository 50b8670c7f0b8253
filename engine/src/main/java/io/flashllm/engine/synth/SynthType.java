package io.flashllm.engine.synth;

import io.flashllm.kernels.GgmlType;

import java.util.Locale;

/**
 * The weight encoding of a synthesized model, named like llama.cpp's file types. The mixes follow
 * llama.cpp: Q4_K_M and Q5_K_M give the output matrix and, in the first and last eighth of the
 * layers and every third layer between, attn_v and ffn_down Q6_K, everything else Q4_K or Q5_K;
 * Q5_K_S and the 32-value block types give only the output matrix Q6_K. The smallest mixes are
 * modelled on llama.cpp's for a Llama, simplified (llama.cpp also weighs the grouped-query factor
 * and the architecture): Q3_K_S is Q3_K but the output matrix; Q3_K_M gives attn_v Q5_K in the
 * first two layers and Q4_K after, ffn_down Q5_K in the first sixteenth of the layers and Q4_K
 * after, attn_output Q4_K; Q3_K_L gives all three Q5_K; Q2_K gives attn_v and ffn_down Q3_K (each
 * with the output matrix Q6_K). IQ4_NL and IQ4_XS give attn_v Q5_K (llama.cpp does when four or more
 * query heads share each KV head, as in the Llama shapes here), ffn_down Q5_K in the first eighth of
 * the layers (llama.cpp does without an importance matrix, as synth quantizes) and the output matrix
 * Q6_K. MXFP4 is llama.cpp's
 * MXFP4_MOE (file type 38, as gpt-oss's files come): the experts' matrices MXFP4, every other one
 * Q8_0; it needs experts.
 */
public enum SynthType {
    F32(0, GgmlType.F32), F16(1, GgmlType.F16), BF16(32, GgmlType.BF16),
    Q8_0(7, GgmlType.Q8_0), Q4_0(2, GgmlType.Q4_0), Q4_1(3, GgmlType.Q4_1),
    Q5_0(8, GgmlType.Q5_0), Q5_1(9, GgmlType.Q5_1),
    Q2_K(10, GgmlType.Q2_K), Q3_K_S(11, GgmlType.Q3_K), Q3_K_M(12, GgmlType.Q3_K), Q3_K_L(13, GgmlType.Q3_K),
    Q4_K_M(15, GgmlType.Q4_K), Q5_K_S(16, GgmlType.Q5_K), Q5_K_M(17, GgmlType.Q5_K),
    IQ4_NL(25, GgmlType.IQ4_NL), IQ4_XS(30, GgmlType.IQ4_XS),
    MXFP4(38, GgmlType.MXFP4);

    /** general.file_type (llama_ftype) value. */
    public final int fileType;
    public final GgmlType base;

    SynthType(int fileType, GgmlType base) {
        this.fileType = fileType;
        this.base = base;
    }

    public boolean quantized() {
        return base.quantized();
    }

    /** Whether a safetensors file can hold this type. */
    public boolean safetensors() {
        return !quantized();
    }

    public static SynthType parse(String s) {
        String k = s.trim().toUpperCase(Locale.ROOT);
        for (SynthType t : values()) {
            if (t.name().equals(k)) return t;
        }
        throw new IllegalArgumentException("unknown weight type '" + s
                + "' (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_M, Q5_K_S, Q5_K_M,"
                + " IQ4_NL, IQ4_XS or MXFP4)");
    }

    /**
     * The encoding of one matrix. {@code role} is a llama.cpp tensor role ("output", "attn_v",
     * "ffn_down", a mixture's stacked "ffn_gate_exps", ...) in {@code layer} of {@code layers}; a K-quant
     * whose 256-block does not divide the row length {@code cols} falls back as llama.cpp's quantizer
     * does (Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, Q2_K, Q3_K and IQ4_XS to IQ4_NL), and a type
     * whose block still does not divide it to F16.
     */
    public GgmlType matrixType(String role, int layer, int layers, int cols) {
        GgmlType t = base;
        if (this == Q4_K_M || this == Q5_K_M) {
            boolean moreBits = layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
            if (role.equals("output") || ((role.equals("attn_v") || role.startsWith("ffn_down")) && moreBits)) {
                t = GgmlType.Q6_K;
            }
        } else if (this == Q3_K_M || this == Q3_K_L || this == Q2_K) {
            boolean firstSixteenth = layer < layers / 16;
            switch (role) {
                case "output" -> t = GgmlType.Q6_K;
                case "attn_v" -> t = this == Q2_K ? GgmlType.Q3_K : this == Q3_K_L || layer < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
                case "attn_output" -> t = this == Q3_K_L ? GgmlType.Q5_K : this == Q3_K_M ? GgmlType.Q4_K : t;
                default -> {
                    if (role.startsWith("ffn_down")) {
                        t = this == Q2_K ? GgmlType.Q3_K : this == Q3_K_L || firstSixteenth ? GgmlType.Q5_K : GgmlType.Q4_K;
                    }
                }
            }
        } else if (this == IQ4_NL || this == IQ4_XS) {
            if (role.equals("output")) t = GgmlType.Q6_K;
            if (role.equals("attn_v") || (role.startsWith("ffn_down") && layer < layers / 8)) t = GgmlType.Q5_K;
        } else if (this == MXFP4) {
            t = role.endsWith("_exps") ? GgmlType.MXFP4 : GgmlType.Q8_0; // llama.cpp's MXFP4_MOE
        } else if (role.equals("output") && quantized() && this != Q8_0) {
            t = GgmlType.Q6_K; // Q8_0 keeps its own: Q6_K would lose bits there
        }
        if (cols % t.blockSize != 0) {
            t = switch (t) {
                case Q2_K, Q3_K, IQ4_XS -> GgmlType.IQ4_NL;
                case Q4_K -> GgmlType.Q5_0;
                case Q5_K -> GgmlType.Q5_1;
                case Q6_K -> GgmlType.Q8_0;
                default -> t;
            };
        }
        if (cols % t.blockSize != 0) t = GgmlType.F16;
        return t;
    }
}
