package io.flashllm.tornado;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.Ops;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.reference.ScalarReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RMSNorm, LayerNorm, RoPE and the FFN gates on the device against scalar references written from
 * their definitions in double (norm weights read through {@link ScalarReference}).
 */
class ElementKernelsTest {
    static final float TOLERANCE = 1e-5f;
    final Random rnd = new Random(3);

    private static void assertClose(FloatArray actual, double[] expected, String what) {
        float[] e = new float[expected.length];
        for (int i = 0; i < e.length; i++) e[i] = (float) expected[i];
        float err = RandomTensors.relativeError(actual, e);
        assertTrue(err <= TOLERANCE, what + ": relative error " + err);
    }

    private static float[] weights(WeightTensor w) {
        float[] out = new float[w.cols()];
        ScalarReference.dequantize(w.type(), w.data(), 0, out, 0, out.length);
        return out;
    }

    // Narrower than a work group, and several items' worth each.
    @ParameterizedTest
    @ValueSource(ints = {96, 1000})
    void rmsnorm(int n) {
        float[] x = RandomTensors.vector(n, rnd);
        WeightTensor w = RandomTensors.matrix(GgmlType.F32, 1, n, rnd);
        float[] wf = weights(w);
        double ss = 0;
        for (float v : x) ss += (double) v * v;
        double inv = 1 / Math.sqrt(ss / n + 1e-5);
        double[] expected = new double[n];
        for (int i = 0; i < n; i++) expected[i] = x[i] * inv * wf[i];

        FloatArray dx = FloatArray.fromArray(x), dw = DeviceMatrix.vector(w, n), out = new FloatArray(n);
        Graphs.runOnce(new Object[] {dx, dw}, (g, groups) -> {
            g.task("norm", NormKernels::rmsnorm, new KernelContext(), dx, dw, out, n, 1e-5f);
            groups.launch("norm", 1);
        }, out);
        assertClose(out, expected, "rmsnorm " + n);
    }

    @ParameterizedTest
    @ValueSource(ints = {64, 777})
    void layernormInPlace(int n) {
        float[] x = RandomTensors.vector(n, rnd);
        float[] wf = RandomTensors.vector(n, rnd), bf = RandomTensors.vector(n, rnd);
        double mean = 0;
        for (float v : x) mean += v;
        mean /= n;
        double var = 0;
        for (float v : x) var += (v - mean) * (v - mean);
        double inv = 1 / Math.sqrt(var / n + 1e-5);
        double[] expected = new double[n];
        for (int i = 0; i < n; i++) expected[i] = (x[i] - mean) * inv * wf[i] + bf[i];

        FloatArray dx = FloatArray.fromArray(x), dw = FloatArray.fromArray(wf), db = FloatArray.fromArray(bf);
        Graphs.runOnce(new Object[] {dx, dw, db}, (g, groups) -> {
            g.task("norm", NormKernels::layernorm, new KernelContext(), dx, dw, db, dx, n, 1e-5f);
            groups.launch("norm", 1);
        }, dx);
        assertClose(dx, expected, "layernorm " + n);
    }

    private void rope(boolean interleaved) {
        int heads = 3, headDim = 16, rot = 12, half = rot / 2, pos = 5, ctx = 8;
        float[] v = RandomTensors.vector(heads * headDim, rnd);
        float[] invFreq = Ops.ropeInvFreq(rot, 10000.0);
        double[] expected = new double[v.length];
        for (int i = 0; i < v.length; i++) expected[i] = v[i];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                int a = interleaved ? h * headDim + 2 * i : h * headDim + i;
                int b = interleaved ? a + 1 : a + half;
                double ang = (double) pos * invFreq[i];
                double x0 = v[a], x1 = v[b];
                expected[a] = x0 * Math.cos(ang) - x1 * Math.sin(ang);
                expected[b] = x0 * Math.sin(ang) + x1 * Math.cos(ang);
            }
        }
        FloatArray cos = new FloatArray(ctx * half), sin = new FloatArray(ctx * half);
        for (int p = 0; p < ctx; p++) {
            for (int i = 0; i < half; i++) {
                cos.set(p * half + i, (float) Math.cos((double) p * invFreq[i]));
                sin.set(p * half + i, (float) Math.sin((double) p * invFreq[i]));
            }
        }
        FloatArray dv = FloatArray.fromArray(v);
        IntArray dp = IntArray.fromElements(pos);
        int style = interleaved ? 1 : 0;
        Graphs.runOnce(new Object[] {dv, cos, sin, dp}, g -> g
                .task("rope", RopeKernels::applyRope, dv, cos, sin, dp, heads * half, half, headDim, style), dv);
        assertClose(dv, expected, interleaved ? "interleaved rope" : "half-split rope");
    }

    @Test
    void ropeInterleaved() {
        rope(true);
    }

    @Test
    void ropeHalfSplit() {
        rope(false);
    }

    private void gate(int kind, float threshold) {
        int n = 200;
        float[] gate = RandomTensors.vector(n, rnd), up = RandomTensors.vector(n, rnd), bias = RandomTensors.vector(n, rnd);
        double[] expected = new double[n];
        for (int i = 0; i < n; i++) {
            double g = gate[i];
            double a = switch (kind) {
                case VectorKernels.SILU -> g / (1 + Math.exp(-g));
                case VectorKernels.RELU -> Math.max(g, 0);
                default -> g > threshold ? g : 0;
            };
            expected[i] = a * (up[i] + bias[i]);
        }
        FloatArray dg = FloatArray.fromArray(gate), du = FloatArray.fromArray(up), db = FloatArray.fromArray(bias);
        FloatArray h = new FloatArray(n);
        Graphs.runOnce(new Object[] {dg, du, db}, g -> g
                .task("gate", VectorKernels::gatedBias, dg, du, db, h, n, kind, threshold), h);
        assertClose(h, expected, "gate " + kind);
    }

    @Test
    void siluGate() {
        gate(VectorKernels.SILU, 0f);
    }

    @Test
    void reluGate() {
        gate(VectorKernels.RELU, 0f);
    }

    @Test
    void fatreluGate() {
        gate(VectorKernels.FATRELU, 0.25f);
    }

    @Test
    void relu() {
        int n = 50;
        float[] x = RandomTensors.vector(n, rnd);
        double[] expected = new double[n];
        for (int i = 0; i < n; i++) expected[i] = Math.max(0, x[i]);
        FloatArray dx = FloatArray.fromArray(x);
        Graphs.runOnce(new Object[] {dx}, g -> g.task("relu", VectorKernels::relu, dx, n), dx);
        assertClose(dx, expected, "relu");
    }
}
