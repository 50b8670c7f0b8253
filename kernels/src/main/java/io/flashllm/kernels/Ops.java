package io.flashllm.kernels;

import io.flashllm.kernels.cpu.RowKernel;
import io.flashllm.kernels.cpu.Simd;
import io.flashllm.kernels.cpu.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.L;

/**
 * Element-wise and normalization kernels of a transformer layer. Output may alias input at the
 * same offset (in-place use). Norm weights and biases are F32, F16 or BF16 tensors of at least
 * {@code n} elements.
 */
public final class Ops {
    private Ops() {}

    /** {@code out = x / sqrt(mean(x^2) + eps) * weight}. */
    public static void rmsnorm(float[] out, int outOff, float[] x, int xOff, int n, WeightTensor weight, float eps) {
        Checks.span("x", x, xOff, n);
        Checks.span("out", out, outOff, n);
        checkVector(weight, n);
        float inv = (float) (1.0 / Math.sqrt(sumSquares(x, xOff, n) / n + eps));
        scaleByWeight(out, outOff, x, xOff, n, 0f, inv, weight);
    }

    /** {@code out = (x - mean) / sqrt(var + eps) * weight + bias}; {@code bias} may be null. */
    public static void layernorm(float[] out, int outOff, float[] x, int xOff, int n,
                                 WeightTensor weight, WeightTensor bias, float eps) {
        Checks.span("x", x, xOff, n);
        Checks.span("out", out, outOff, n);
        checkVector(weight, n);
        if (bias != null) checkVector(bias, n);
        double mean = sum(x, xOff, n) / n;
        double var = 0;
        for (int i = 0; i < n; i++) {
            double d = x[xOff + i] - mean;
            var += d * d;
        }
        var /= n;
        float inv = (float) (1.0 / Math.sqrt(var + eps));
        scaleByWeight(out, outOff, x, xOff, n, (float) mean, inv, weight);
        if (bias != null) addBias(out, outOff, bias, n);
    }

    /** In place: {@code x[off..off+len) = exp(x - max) / sum}. */
    public static void softmax(float[] x, int off, int len) {
        softmax(x, off, len, Float.NEGATIVE_INFINITY);
    }

    /**
     * In place, the softmax over {@code x[off..off+len)} and one more logit, {@code sink}, whose share is dropped
     * (gpt-oss's attention sinks): the values then sum to less than one, as far as the sink outweighs them.
     * A sink of negative infinity is the plain {@link #softmax(float[], int, int)}.
     */
    public static void softmax(float[] x, int off, int len, float sink) {
        Checks.span("x", x, off, len);
        if (len == 0) return;
        float max = Math.max(max(x, off, len), sink);
        float sum = expSum(x, off, len, max, (float) Math.exp(sink - max));
        scale(x, off, len, 1f / sum);
    }

    /** The largest of {@code x[off..off+len)}; negative infinity when len is 0. */
    public static float maxOf(float[] x, int off, int len) {
        Checks.span("x", x, off, len);
        return max(x, off, len);
    }

    /**
     * In place, {@code x[off..off+len) = exp(x - max)}, and their sum: a softmax's terms before the
     * division, for a softmax taken in parts (a running maximum rescales what earlier parts summed).
     */
    public static float expShifted(float[] x, int off, int len, float max) {
        Checks.span("x", x, off, len);
        return expSum(x, off, len, max, 0f);
    }

    /** {@link #expShifted}, its sum starting from {@code extra} added to the vector lanes' sum, before the tail's. */
    private static float expSum(float[] x, int off, int len, float max, float extra) {
        FloatVector sumV = FloatVector.zero(F);
        int i = 0;
        for (; i <= len - L; i += L) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, x, off + i).sub(max));
            e.intoArray(x, off + i);
            sumV = sumV.add(e);
        }
        FloatVector fold1 = sumV.add(sumV.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        float sum = (fold1.lane(0) + fold1.lane(1)) + extra;
        for (; i < len; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        return sum;
    }

    /**
     * Rotary embedding for the interleaved-pair convention (GGUF Llama): dims (2i, 2i+1) of the
     * first {@code rotDim} dims of the head at {@code off} rotate by angle {@code pos * invFreq[i]};
     * dims from {@code rotDim} to {@code headDim} are untouched.
     */
    public static void ropeInterleaved(float[] v, int off, int headDim, int rotDim, int pos, float[] invFreq) {
        RopeTable t = rope(v, off, headDim, rotDim, pos, invFreq);
        for (int i = 0; i < rotDim / 2; i++) {
            int a = off + 2 * i;
            float x0 = v[a], x1 = v[a + 1];
            float c = t.cos[i], s = t.sin[i];
            v[a] = x0 * c - x1 * s;
            v[a + 1] = x0 * s + x1 * c;
        }
    }

    /**
     * Rotary embedding for the half-split convention (HF Llama, GPT-NeoX): dims (i, i + rotDim/2)
     * rotate by angle {@code pos * invFreq[i]}.
     */
    public static void ropeHalfSplit(float[] v, int off, int headDim, int rotDim, int pos, float[] invFreq) {
        RopeTable t = rope(v, off, headDim, rotDim, pos, invFreq);
        int half = rotDim / 2;
        for (int i = 0; i < half; i++) {
            int a = off + i, b = a + half;
            float x0 = v[a], x1 = v[b];
            float c = t.cos[i], s = t.sin[i];
            v[a] = x0 * c - x1 * s;
            v[b] = x0 * s + x1 * c;
        }
    }

    /** Standard rotary frequencies {@code theta^(-2i/rotDim)}. */
    public static float[] ropeInvFreq(int rotDim, double theta) {
        if (rotDim <= 0 || rotDim % 2 != 0) throw new IllegalArgumentException("rotDim must be even and > 0, got " + rotDim);
        float[] f = new float[rotDim / 2];
        for (int i = 0; i < f.length; i++) f[i] = (float) Math.pow(theta, -2.0 * i / rotDim);
        return f;
    }

    /** In place: {@code x = x * sigmoid(x)}. */
    public static void silu(float[] x, int off, int len) {
        Checks.span("x", x, off, len);
        int i = 0;
        for (; i <= len - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            v.div(VectorMath.exp(v.neg()).add(1f)).intoArray(x, off + i);
        }
        for (; i < len; i++) x[off + i] = silu(x[off + i]);
    }

    public static float silu(float v) {
        return (float) (v / (1.0 + Math.exp(-v)));
    }

    /** Gated FFN activation in place: {@code gate[i] = silu(gate[i]) * up[i]}. */
    public static void siluMul(float[] gate, float[] up, int off, int len) {
        Checks.span("gate", gate, off, len);
        Checks.span("up", up, off, len);
        int i = 0;
        for (; i <= len - L; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, off + i);
            FloatVector u = FloatVector.fromArray(F, up, off + i);
            g.div(VectorMath.exp(g.neg()).add(1f)).mul(u).intoArray(gate, off + i);
        }
        for (; i < len; i++) gate[off + i] = silu(gate[off + i]) * up[off + i];
    }

    /**
     * gpt-oss's clamped SwiGLU in place: {@code gate = g * sigmoid(alpha * g) * (u + 1)} with {@code g = min(gate,
     * limit)} and {@code u = clamp(up, -limit, limit)}. Vectorized as {@link #siluMul}: a scalar exp per neuron is
     * ~0.3 M exps a token in gpt-oss-20b's experts.
     */
    public static void swigluOaiMul(float[] gate, float[] up, int off, int len, float alpha, float limit) {
        Checks.span("gate", gate, off, len);
        Checks.span("up", up, off, len);
        int i = 0;
        for (; i <= len - L; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, off + i).min(limit);
            FloatVector u = FloatVector.fromArray(F, up, off + i).min(limit).max(-limit).add(1f);
            g.div(VectorMath.exp(g.mul(-alpha)).add(1f)).mul(u).intoArray(gate, off + i);
        }
        for (; i < len; i++) {
            float g = Math.min(gate[off + i], limit);
            float u = Math.clamp(up[off + i], -limit, limit) + 1f;
            gate[off + i] = g / (1f + (float) Math.exp(-alpha * g)) * u;
        }
    }

    /**
     * GeGLU in place (Gemma): {@code gate = gelu(gate) * up}, GELU by its tanh approximation as Gemma is
     * trained with it (gelu_pytorch_tanh) and llama.cpp computes it.
     */
    public static void geluMul(float[] gate, float[] up, int off, int len) {
        Checks.span("gate", gate, off, len);
        Checks.span("up", up, off, len);
        int i = 0;
        for (; i <= len - L; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, off + i);
            FloatVector u = FloatVector.fromArray(F, up, off + i);
            FloatVector inner = g.mul(g).mul(GELU_CUBE).add(1f).mul(g).mul(GELU_SCALE);
            g.mul(0.5f).mul(VectorMath.tanh(inner).add(1f)).mul(u).intoArray(gate, off + i);
        }
        for (; i < len; i++) gate[off + i] = gelu(gate[off + i]) * up[off + i];
    }

    /** In place soft cap (Gemma 2's logits): {@code x = cap * tanh(x / cap)}. */
    public static void softcap(float[] x, int off, int len, float cap) {
        Checks.span("x", x, off, len);
        float inv = 1f / cap;
        int i = 0;
        for (; i <= len - L; i += L) {
            VectorMath.tanh(FloatVector.fromArray(F, x, off + i).mul(inv)).mul(cap).intoArray(x, off + i);
        }
        for (; i < len; i++) x[off + i] = cap * (float) Math.tanh(x[off + i] * inv);
    }

    /** sqrt(2 / pi) and the cubic term's weight of GELU's tanh approximation. */
    private static final float GELU_SCALE = 0.7978845608028654f;
    private static final float GELU_CUBE = 0.044715f;

    /** GELU, tanh approximation, of one value. */
    public static float gelu(float v) {
        return (float) (0.5 * v * (1 + Math.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))));
    }

    /** In place GELU, tanh approximation (GPT-2, OPT-style FFNs use ReLU; gelu for the others). */
    public static void gelu(float[] x, int off, int len) {
        Checks.span("x", x, off, len);
        for (int i = 0; i < len; i++) x[off + i] = gelu(x[off + i]);
    }

    /** In place: {@code x = max(x, threshold) == x ? x : 0}, i.e. FATReLU; threshold 0 is plain ReLU. */
    public static void relu(float[] x, int off, int len, float threshold) {
        Checks.span("x", x, off, len);
        int i = 0;
        for (; i <= len - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            v.blend(0f, v.compare(VectorOperators.LE, threshold)).intoArray(x, off + i);
        }
        for (; i < len; i++) if (x[off + i] <= threshold) x[off + i] = 0f;
    }

    /** {@code x[off + i] += bias[i]} for every element of {@code bias}. */
    public static void addBias(float[] x, int off, WeightTensor bias) {
        addBias(x, off, bias, bias.cols());
    }

    private static void addBias(float[] x, int off, WeightTensor bias, int n) {
        Checks.span("x", x, off, n);
        RowKernel.forType(bias.type()).axpy(bias.data(), 0, n, 1f, x, off);
    }

    /** {@code dst[dOff + i] += src[sOff + i]} (residual connections). */
    public static void add(float[] dst, int dOff, float[] src, int sOff, int n) {
        Checks.span("dst", dst, dOff, n);
        Checks.span("src", src, sOff, n);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(F, dst, dOff + i).add(FloatVector.fromArray(F, src, sOff + i)).intoArray(dst, dOff + i);
        }
        for (; i < n; i++) dst[dOff + i] += src[sOff + i];
    }

    /** In place: {@code x *= s}. */
    public static void scale(float[] x, int off, int len, float s) {
        Checks.span("x", x, off, len);
        int i = 0;
        for (; i <= len - L; i += L) FloatVector.fromArray(F, x, off + i).mul(s).intoArray(x, off + i);
        for (; i < len; i++) x[off + i] *= s;
    }

    /** Index of the largest element of {@code x[off..off+len)} (first on ties); -1 when empty. */
    public static int argmax(float[] x, int off, int len) {
        Checks.span("x", x, off, len);
        int best = -1;
        float bv = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) {
            if (best < 0 || x[off + i] > bv) {
                bv = x[off + i];
                best = i;
            }
        }
        return best;
    }

    static double sum(float[] x, int off, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) acc = acc.add(FloatVector.fromArray(F, x, off + i));
        FloatVector fold2 = acc.add(acc.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        double s = fold2.lane(0) + fold2.lane(1);
        for (; i < n; i++) s += x[off + i];
        return s;
    }

    static double sumSquares(float[] x, int off, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            acc = v.fma(v, acc);
        }
        FloatVector fold3 = acc.add(acc.rearrange(Simd.FOLD_1));
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        double s = fold3.lane(0) + fold3.lane(1);
        for (; i < n; i++) s += (double) x[off + i] * x[off + i];
        return s;
    }

    static float max(float[] x, int off, int n) {
        FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i <= n - L; i += L) acc = acc.max(FloatVector.fromArray(F, x, off + i));
        float m = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }

    /** out[i] = (x[i] - shift) * inv * weight[i]. */
    private static void scaleByWeight(float[] out, int outOff, float[] x, int xOff, int n, float shift, float inv,
                                      WeightTensor weight) {
        MemorySegment w = weight.data();
        int i = 0;
        switch (weight.type()) {
            case F32 -> {
                for (; i <= n - L; i += L) {
                    FloatVector wv = FloatVector.fromMemorySegment(F, w, 4L * i, Simd.LE);
                    FloatVector.fromArray(F, x, xOff + i).sub(shift).mul(inv).mul(wv).intoArray(out, outOff + i);
                }
                for (; i < n; i++) out[outOff + i] = (x[xOff + i] - shift) * inv * w.get(Simd.FLOAT_LE, 4L * i);
            }
            case F16 -> {
                for (; i < n; i++) out[outOff + i] = (x[xOff + i] - shift) * inv * Simd.f16(w, 2L * i);
            }
            case BF16 -> {
                for (; i < n; i++) {
                    float wi = Float.intBitsToFloat((w.get(Simd.SHORT_LE, 2L * i) & 0xffff) << 16);
                    out[outOff + i] = (x[xOff + i] - shift) * inv * wi;
                }
            }
            default -> throw new IllegalStateException("checked before");
        }
    }

    private static void checkVector(WeightTensor w, int n) {
        if (w == null) throw new NullPointerException("weight tensor is null");
        Checks.vectorType(w);
        if (w.elements() < n) {
            throw new IllegalArgumentException("tensor " + w.name() + " has " + w.elements() + " elements, need " + n);
        }
    }

    /** cos/sin of {@code pos * invFreq[i]}, cached per thread: every head of a token reuses one table. */
    private static final class RopeTable {
        float[] invFreq;
        int pos = Integer.MIN_VALUE;
        int n;
        float[] cos = new float[0];
        float[] sin = new float[0];
    }

    private static final ThreadLocal<RopeTable> ROPE = ThreadLocal.withInitial(RopeTable::new);

    private static RopeTable rope(float[] v, int off, int headDim, int rotDim, int pos, float[] invFreq) {
        if (rotDim <= 0 || rotDim % 2 != 0 || rotDim > headDim) {
            throw new IllegalArgumentException("rotDim " + rotDim + " must be even, > 0 and <= headDim " + headDim);
        }
        if (invFreq.length < rotDim / 2) {
            throw new IllegalArgumentException("invFreq has " + invFreq.length + " entries, rotDim " + rotDim + " needs " + rotDim / 2);
        }
        Checks.span("v", v, off, headDim);
        RopeTable t = ROPE.get();
        int half = rotDim / 2;
        if (t.pos != pos || t.invFreq != invFreq || t.n != half) {
            if (t.cos.length < half) {
                t.cos = new float[half];
                t.sin = new float[half];
            }
            for (int i = 0; i < half; i++) {
                double a = (double) pos * invFreq[i];
                t.cos[i] = (float) Math.cos(a);
                t.sin[i] = (float) Math.sin(a);
            }
            t.pos = pos;
            t.invFreq = invFreq;
            t.n = half;
        }
        return t;
    }
}
