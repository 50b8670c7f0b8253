package io.flashllm.flashstore.ffn;

import io.flashllm.kernels.Ops;

/**
 * What makes an FFN neuron fire. Gated kinds compute act(gate·x) * (up·x); OPT's has no gate and
 * computes relu(up·x + b). FATReLU zeroes values at or below {@code threshold}; GELU (Gemma's GeGLU)
 * is the tanh approximation.
 */
public record FfnActivation(Kind kind, float threshold) {
    public enum Kind { GATED_SILU, GATED_RELU, GATED_FATRELU, RELU_NO_GATE, GATED_GELU, GATED_SWIGLU_OAI }

    /** gpt-oss's SwiGLU: the sigmoid's slope and the clamp of both halves. */
    public static final float OAI_ALPHA = 1.702f;
    public static final float OAI_LIMIT = 7f;

    public boolean gated() {
        return kind != Kind.RELU_NO_GATE;
    }

    /** True when the activation is exactly zero for some inputs, so sparse loading loses nothing. */
    public boolean sparse() {
        return kind != Kind.GATED_SILU && kind != Kind.GATED_GELU && kind != Kind.GATED_SWIGLU_OAI;
    }

    /**
     * In place over {@code gate[off..off+n)} of a gated kind: {@code gate[i] = act(gate[i]) * up[i]}
     * (gpt-oss: its clamped up plus one). SwiGLU goes through the vectorized {@link Ops#siluMul}: a scalar exp
     * per neuron on one thread was what the other threads of a dense FFN waited for.
     */
    public void applyGated(float[] gate, float[] up, int off, int n) {
        if (!gated()) throw new IllegalStateException(kind + " has no gate");
        if (kind == Kind.GATED_SILU) {
            Ops.siluMul(gate, up, off, n);
            return;
        }
        if (kind == Kind.GATED_GELU) {
            Ops.geluMul(gate, up, off, n);
            return;
        }
        if (kind == Kind.GATED_SWIGLU_OAI) {
            Ops.swigluOaiMul(gate, up, off, n, OAI_ALPHA, OAI_LIMIT);
            return;
        }
        for (int i = off; i < off + n; i++) gate[i] = apply(gate[i]) * up[i];
    }

    public float apply(float v) {
        return switch (kind) {
            case GATED_SILU -> v / (1f + (float) Math.exp(-v));
            case GATED_RELU, RELU_NO_GATE -> v > 0 ? v : 0f;
            case GATED_FATRELU -> v > threshold ? v : 0f;
            case GATED_GELU -> Ops.gelu(v);
            case GATED_SWIGLU_OAI -> {
                float g = Math.min(v, OAI_LIMIT);
                yield g / (1f + (float) Math.exp(-OAI_ALPHA * g));
            }
        };
    }
}
