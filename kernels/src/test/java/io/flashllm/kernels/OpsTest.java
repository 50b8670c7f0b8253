package io.flashllm.kernels;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Ops against plain double-precision formulas. */
class OpsTest {
    private static final int[] SIZES = {1, 7, 16, 37, 64, 1000};

    private static WeightTensor vector(Arena arena, GgmlType type, float[] v) {
        MemorySegment s = arena.allocate(type.bytesFor(v.length));
        for (int i = 0; i < v.length; i++) {
            switch (type) {
                case F32 -> s.set(TestTensors.FLOAT_LE, 4L * i, v[i]);
                case F16 -> s.set(TestTensors.SHORT_LE, 2L * i, Float.floatToFloat16(v[i]));
                case BF16 -> s.set(TestTensors.SHORT_LE, 2L * i, (short) (Float.floatToIntBits(v[i]) >>> 16));
                default -> throw new AssertionError(type);
            }
        }
        return new WeightTensor("v", type, new long[]{v.length}, s);
    }

    /** The value a weight vector actually holds after rounding to its type. */
    private static float stored(GgmlType type, float v) {
        return switch (type) {
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(v));
            case BF16 -> Float.intBitsToFloat(Float.floatToIntBits(v) & 0xffff0000);
            default -> v;
        };
    }

    @Test
    void rmsnormMatchesFormulaForEachWeightType() {
        Random rnd = new Random(1);
        try (Arena arena = Arena.ofConfined()) {
            for (GgmlType type : new GgmlType[]{GgmlType.F32, GgmlType.F16, GgmlType.BF16}) {
                for (int n : SIZES) {
                    float[] x = TestTensors.gaussian(n + 3, rnd);
                    float[] w = TestTensors.gaussian(n, rnd);
                    WeightTensor wt = vector(arena, type, w);
                    double ss = 0;
                    for (int i = 0; i < n; i++) ss += (double) x[3 + i] * x[3 + i];
                    double inv = 1 / Math.sqrt(ss / n + 1e-5);
                    float[] out = new float[n + 1];
                    Ops.rmsnorm(out, 1, x, 3, n, wt, 1e-5f);
                    for (int i = 0; i < n; i++) {
                        double e = x[3 + i] * inv * stored(type, w[i]);
                        assertEquals(e, out[1 + i], 1e-5 * (1 + Math.abs(e)), type + " n " + n + " i " + i);
                    }
                    float[] inPlace = x.clone();
                    Ops.rmsnorm(inPlace, 3, inPlace, 3, n, wt, 1e-5f);
                    for (int i = 0; i < n; i++) assertEquals(out[1 + i], inPlace[3 + i], 0f, "in place");
                }
            }
        }
    }

    @Test
    void layernormMatchesFormula() {
        Random rnd = new Random(2);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : SIZES) {
                float[] x = TestTensors.gaussian(n, rnd);
                for (int i = 0; i < n; i++) x[i] += 3; // a mean far from zero
                float[] w = TestTensors.gaussian(n, rnd), b = TestTensors.gaussian(n, rnd);
                double mean = 0, var = 0;
                for (float v : x) mean += v;
                mean /= n;
                for (float v : x) var += (v - mean) * (v - mean);
                var /= n;
                double inv = 1 / Math.sqrt(var + 1e-5);
                float[] out = new float[n];
                Ops.layernorm(out, 0, x, 0, n, vector(arena, GgmlType.F32, w), vector(arena, GgmlType.F32, b), 1e-5f);
                float[] noBias = new float[n];
                Ops.layernorm(noBias, 0, x, 0, n, vector(arena, GgmlType.F32, w), null, 1e-5f);
                for (int i = 0; i < n; i++) {
                    double e = (x[i] - mean) * inv * w[i];
                    assertEquals(e + b[i], out[i], 1e-4 * (1 + Math.abs(e)), "n " + n + " i " + i);
                    assertEquals(e, noBias[i], 1e-4 * (1 + Math.abs(e)), "no bias n " + n + " i " + i);
                }
            }
        }
    }

    @Test
    void softmaxMatchesFormula() {
        Random rnd = new Random(3);
        for (int n : SIZES) {
            float[] x = new float[n + 2];
            for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 10 + 50);
            float[] orig = x.clone();
            Ops.softmax(x, 2, n);
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < n; i++) max = Math.max(max, orig[2 + i]);
            for (int i = 0; i < n; i++) sum += Math.exp(orig[2 + i] - max);
            double total = 0;
            for (int i = 0; i < n; i++) {
                double e = Math.exp(orig[2 + i] - max) / sum;
                assertEquals(e, x[2 + i], 1e-6 + 1e-5 * e, "n " + n);
                total += x[2 + i];
            }
            assertEquals(1.0, total, 1e-5);
            assertEquals(orig[0], x[0]);
            assertEquals(orig[1], x[1]);
        }
        float[] withInf = {Float.NEGATIVE_INFINITY, 0f, Float.NEGATIVE_INFINITY, 0f};
        Ops.softmax(withInf, 0, 4);
        assertArrayEquals(new float[]{0f, 0.5f, 0f, 0.5f}, withInf, 1e-7f);
        // gpt-oss's sink: one more logit in the denominator, above and below the scores' maximum.
        for (int n : SIZES) {
            for (float sink : new float[] {45f, 75f}) {
                float[] x = new float[n];
                for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextGaussian() * 10 + 50);
                float[] orig = x.clone();
                Ops.softmax(x, 0, n, sink);
                double max = sink, sum = 0;
                for (float v : orig) max = Math.max(max, v);
                for (float v : orig) sum += Math.exp(v - max);
                sum += Math.exp(sink - max);
                for (int i = 0; i < n; i++) {
                    double e = Math.exp(orig[i] - max) / sum;
                    assertEquals(e, x[i], 1e-6 + 1e-5 * e, "n " + n + " sink " + sink);
                }
            }
        }
    }

    /** A softmax in parts: the maximum of a span, and its terms exp(x - max) in place with their sum. */
    @Test
    void expShiftedGivesTheTermsAndTheirSum() {
        Random rnd = new Random(5);
        for (int n : SIZES) {
            float[] x = new float[n + 3];
            for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 10 + 50);
            float[] orig = x.clone();
            double want = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) want = Math.max(want, orig[2 + i]);
            assertEquals((float) want, Ops.maxOf(x, 2, n), "n " + n);
            float shift = (float) want + 3f; // any shift: a running maximum from an earlier part may lie above
            float sum = Ops.expShifted(x, 2, n, shift);
            double total = 0;
            for (int i = 0; i < n; i++) {
                double e = Math.exp(orig[2 + i] - shift);
                assertEquals(e, x[2 + i], 1e-7 + 1e-5 * e, "n " + n + " term " + i);
                total += e;
            }
            assertEquals(total, sum, 1e-6 + 1e-5 * total, "n " + n);
            assertEquals(orig[0], x[0]);
            assertEquals(orig[1], x[1]);
            assertEquals(orig[n + 2], x[n + 2]);
        }
        assertEquals(Float.NEGATIVE_INFINITY, Ops.maxOf(new float[4], 2, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> Ops.expShifted(new float[4], 2, 3, 0f));
    }

    @Test
    void ropeRotatesPairsOfEachConvention() {
        Random rnd = new Random(4);
        int headDim = 64;
        for (int rotDim : new int[]{64, 32}) {
            float[] invFreq = Ops.ropeInvFreq(rotDim, 10000);
            for (int pos : new int[]{0, 1, 17, 4095}) {
                float[] v = TestTensors.gaussian(5 + 2 * headDim, rnd);
                float[] inter = v.clone(), half = v.clone();
                for (int head = 0; head < 2; head++) {
                    int off = 5 + head * headDim;
                    Ops.ropeInterleaved(inter, off, headDim, rotDim, pos, invFreq);
                    Ops.ropeHalfSplit(half, off, headDim, rotDim, pos, invFreq);
                    for (int i = 0; i < rotDim / 2; i++) {
                        double theta = pos * Math.pow(10000, -2.0 * i / rotDim);
                        double c = Math.cos(theta), s = Math.sin(theta);
                        int a = off + 2 * i, b = a + 1;
                        assertEquals(v[a] * c - v[b] * s, inter[a], 2e-3, "interleaved pos " + pos);
                        assertEquals(v[a] * s + v[b] * c, inter[b], 2e-3, "interleaved pos " + pos);
                        a = off + i;
                        b = off + i + rotDim / 2;
                        assertEquals(v[a] * c - v[b] * s, half[a], 2e-3, "half-split pos " + pos);
                        assertEquals(v[a] * s + v[b] * c, half[b], 2e-3, "half-split pos " + pos);
                    }
                    for (int i = rotDim; i < headDim; i++) {
                        assertEquals(v[off + i], inter[off + i], "untouched dims");
                        assertEquals(v[off + i], half[off + i], "untouched dims");
                    }
                }
                assertEquals(v[0], inter[0]);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Ops.ropeInterleaved(new float[8], 0, 8, 7, 0, new float[4]));
        assertThrows(IllegalArgumentException.class, () -> Ops.ropeHalfSplit(new float[8], 0, 8, 8, 0, new float[2]));
    }

    @Test
    void activationsMatchFormulas() {
        Random rnd = new Random(5);
        for (int n : SIZES) {
            float[] x = TestTensors.gaussian(n, rnd);
            float[] up = TestTensors.gaussian(n, rnd);
            float[] silu = x.clone(), gated = x.clone(), relu = x.clone(), fat = x.clone(), gelu = x.clone();
            float[] geglu = x.clone();
            // gpt-oss's gate and up values past its clamp (7) on some neurons, both signs.
            float[] oai = x.clone(), oaiUp = up.clone();
            for (int i = 0; i < n; i += 5) {
                oai[i] *= 9;
                oaiUp[i] *= 9;
            }
            float[] oaiIn = oai.clone();
            Ops.swigluOaiMul(oai, oaiUp, 0, n, 1.702f, 7f);
            for (int i = 0; i < n; i++) {
                double g = Math.min(oaiIn[i], 7.0), u = Math.max(-7.0, Math.min(oaiUp[i], 7.0));
                double want = g / (1 + Math.exp(-1.702 * g)) * (u + 1);
                assertEquals(want, oai[i], 1e-5 * (1 + Math.abs(want)), "swiglu-oai at " + oaiIn[i] + ", " + oaiUp[i]);
            }
            // Gemma's gate values reach tens: scale some up so the tanh's tails are tried too.
            for (int i = 0; i < n; i += 7) geglu[i] *= 8;
            Ops.silu(silu, 0, n);
            Ops.siluMul(gated, up, 0, n);
            Ops.relu(relu, 0, n, 0f);
            Ops.relu(fat, 0, n, 0.5f);
            Ops.gelu(gelu, 0, n);
            float[] gegluIn = geglu.clone();
            float[] capped = geglu.clone();
            for (int i = 0; i < n; i++) capped[i] *= 6; // logits of tens, past the cap
            float[] cappedIn = capped.clone();
            Ops.softcap(capped, 0, n, 30f);
            for (int i = 0; i < n; i++) {
                double c = 30 * Math.tanh(cappedIn[i] / 30.0);
                assertEquals(c, capped[i], 1e-5 * (1 + Math.abs(c)), "softcap at " + cappedIn[i]);
            }
            Ops.geluMul(geglu, up, 0, n);
            for (int i = 0; i < n; i++) {
                double s = x[i] / (1 + Math.exp(-x[i]));
                assertEquals(s, silu[i], 1e-6 * (1 + Math.abs(s)));
                assertEquals(s * up[i], gated[i], 1e-5 * (1 + Math.abs(s * up[i])));
                assertEquals(x[i] > 0 ? x[i] : 0f, relu[i]);
                assertEquals(x[i] > 0.5f ? x[i] : 0f, fat[i]);
                double g = 0.5 * x[i] * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x[i] + 0.044715 * Math.pow(x[i], 3))));
                assertEquals(g, gelu[i], 1e-6 * (1 + Math.abs(g)));
                double v = gegluIn[i];
                double gg = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))) * up[i];
                assertEquals(gg, geglu[i], 1e-5 * (1 + Math.abs(gg)), "geglu at " + v);
            }
        }
    }

    @Test
    void biasAddScaleArgmax() {
        Random rnd = new Random(6);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : SIZES) {
                float[] x = TestTensors.gaussian(n + 4, rnd);
                float[] b = TestTensors.gaussian(n, rnd);
                for (GgmlType type : new GgmlType[]{GgmlType.F32, GgmlType.F16}) {
                    float[] y = x.clone();
                    Ops.addBias(y, 4, vector(arena, type, b));
                    for (int i = 0; i < 4; i++) assertEquals(x[i], y[i]);
                    for (int i = 0; i < n; i++) assertEquals(x[4 + i] + stored(type, b[i]), y[4 + i], 1e-6f);
                }
                float[] y = x.clone();
                Ops.add(y, 4, b, 0, n);
                for (int i = 0; i < n; i++) assertEquals(x[4 + i] + b[i], y[4 + i], 0f);
                Ops.scale(y, 0, n + 4, 2f);
                assertEquals(2 * x[0], y[0], 0f);
                int best = 0;
                for (int i = 1; i < n; i++) if (b[i] > b[best]) best = i;
                assertEquals(best, Ops.argmax(b, 0, n));
            }
        }
        assertEquals(-1, Ops.argmax(new float[0], 0, 0));
    }

    @Test
    void badArgumentsGiveClearErrors() {
        try (Arena arena = Arena.ofConfined()) {
            WeightTensor q8 = TestTensors.random(arena, GgmlType.Q8_0, 1, 32, new Random(7));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.rmsnorm(new float[32], 0, new float[32], 0, 32, q8, 1e-5f));
            assertTrue(e.getMessage().contains("Q8_0"), e.getMessage());
            WeightTensor small = vector(arena, GgmlType.F32, new float[4]);
            assertThrows(IllegalArgumentException.class, () -> Ops.rmsnorm(new float[8], 0, new float[8], 0, 8, small, 1e-5f));
            assertThrows(IndexOutOfBoundsException.class, () -> Ops.softmax(new float[4], 2, 3));
            assertThrows(IndexOutOfBoundsException.class, () -> MatVec.dot(q8, 1, new float[32], 0));
            assertThrows(IndexOutOfBoundsException.class, () -> MatVec.matvec(null, q8, new float[31], new float[1]));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> MatVec.matvecRows(null, q8, new int[]{0, 1}, 2, new float[32], new float[2]));
            assertThrows(IndexOutOfBoundsException.class, () -> Dequant.row(q8, 0, new float[40], 9));
        }
    }
}
