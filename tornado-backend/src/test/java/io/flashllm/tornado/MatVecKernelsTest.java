package io.flashllm.tornado;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.reference.ScalarReference;
import org.junit.jupiter.api.Test;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device matvecs against the scalar reference, for every encoding the device keeps. */
class MatVecKernelsTest {
    /** Float sums in another order than the reference's double sums: a few ulps per term. */
    static final float TOLERANCE = 1e-4f;

    /** No norm ahead of a product: weights all ones. */
    static DeviceMatrix.InputNorm none(int n) {
        FloatArray ones = new FloatArray(n);
        ones.init(1f);
        return new DeviceMatrix.InputNorm(ones, 0f, false);
    }

    /**
     * {@code W x + b} into a fresh output, and {@code out + W rms(x) + b} into one that holds values:
     * the residual add, after the RMSNorm the product applies to its input.
     */
    private static void check(GgmlType type, int rows, int cols) {
        Random rnd = new Random(rows * 31L + cols);
        WeightTensor w = RandomTensors.matrix(type, rows, cols, rnd);
        float[] x = RandomTensors.vector(cols, rnd);
        float[] bias = RandomTensors.vector(rows, rnd);
        float[] prior = RandomTensors.vector(rows, rnd);
        float[] normWeights = RandomTensors.vector(cols, rnd);
        float[] product = new float[rows];
        ScalarReference.matvec(w, x, product);
        double ss = 0;
        for (float v : x) ss += (double) v * v;
        double inv = 1 / Math.sqrt(ss / cols + 1e-5);
        float[] normalized = new float[cols];
        for (int c = 0; c < cols; c++) normalized[c] = (float) (x[c] * inv * normWeights[c]);
        float[] normProduct = new float[rows];
        ScalarReference.matvec(w, normalized, normProduct);
        float[] fresh = new float[rows];
        float[] accumulated = new float[rows];
        for (int r = 0; r < rows; r++) {
            fresh[r] = product[r] + bias[r];
            accumulated[r] = prior[r] + normProduct[r] + bias[r];
        }

        DeviceMatrix m = DeviceMatrix.of(w);
        FloatArray dx = RandomTensors.device(x), db = RandomTensors.device(bias);
        FloatArray out = new FloatArray(rows), acc = RandomTensors.device(prior);
        FloatArray halfs = Halfs.table();
        DeviceMatrix.InputNorm none = none(cols);
        DeviceMatrix.InputNorm rms = new DeviceMatrix.InputNorm(RandomTensors.device(normWeights), 1e-5f, true);
        Graphs.runOnce(new Object[] {halfs, dx, db, acc, none.weights(), rms.weights()}, (g, groups) -> {
            m.upload(g);
            m.linear(g, groups, "mv", halfs, dx, none, db, out, false);
            m.linear(g, groups, "acc", halfs, dx, rms, db, acc, true);
        }, out, acc);
        String what = type + " " + rows + "x" + cols;
        float err = RandomTensors.relativeError(out, fresh);
        assertTrue(err <= TOLERANCE, what + ": relative error " + err);
        err = RandomTensors.relativeError(acc, accumulated);
        assertTrue(err <= TOLERANCE, what + " normalized and accumulated: relative error " + err);
    }

    // Rows narrower than a work group (some items add nothing), as wide, and several times wider.
    @Test
    void f16MatchesTheReference() {
        check(GgmlType.F16, 96, 256);
        check(GgmlType.F16, 7, 1056);
    }

    @Test
    void q8MatchesTheReference() {
        check(GgmlType.Q8_0, 80, 256);
        check(GgmlType.Q8_0, 5, 96);
        check(GgmlType.Q8_0, 9, 2080);
    }

    @Test
    void f32MatchesTheReference() {
        check(GgmlType.F32, 33, 64);
        check(GgmlType.F32, 3, 128);
        check(GgmlType.F32, 4, 1000);
    }

    /** Interleaved gate and up rows: {@code act(gate x) * (up x + b)} per neuron, for each activation. */
    @Test
    void gatedRowsMatchTheReference() {
        for (GgmlType type : new GgmlType[] {GgmlType.F16, GgmlType.Q8_0, GgmlType.F32}) {
            for (int kind : new int[] {VectorKernels.SILU, VectorKernels.RELU, VectorKernels.FATRELU}) {
                int rows = 40, cols = 320;
                float threshold = 0.05f;
                Random rnd = new Random(kind * 7L + type.ordinal());
                WeightTensor gate = RandomTensors.matrix(type, rows, cols, rnd);
                WeightTensor up = RandomTensors.matrix(type, rows, cols, rnd);
                float[] x = RandomTensors.vector(cols, rnd);
                float[] upBias = RandomTensors.vector(rows, rnd);
                float[] g = new float[rows], u = new float[rows], expected = new float[rows];
                ScalarReference.matvec(gate, x, g);
                ScalarReference.matvec(up, x, u);
                for (int r = 0; r < rows; r++) {
                    double a = switch (kind) {
                        case VectorKernels.SILU -> g[r] / (1 + Math.exp(-g[r]));
                        case VectorKernels.RELU -> Math.max(g[r], 0);
                        default -> g[r] > threshold ? g[r] : 0;
                    };
                    expected[r] = (float) (a * (u[r] + upBias[r]));
                }

                DeviceMatrix m = DeviceMatrix.interleaved(gate, up);
                assertEquals(2 * rows, m.rows());
                FloatArray dx = RandomTensors.device(x), db = RandomTensors.device(upBias);
                FloatArray out = new FloatArray(rows), halfs = Halfs.table();
                DeviceMatrix.InputNorm none = none(cols);
                Graphs.runOnce(new Object[] {halfs, dx, db, none.weights()}, (tg, groups) -> {
                    m.upload(tg);
                    m.gated(tg, groups, "gated", halfs, dx, none, db, out, kind, threshold);
                }, out);
                float err = RandomTensors.relativeError(out, expected);
                assertTrue(err <= TOLERANCE, type + " kind " + kind + ": relative error " + err);
            }
        }
    }

    /**
     * Stacked q, k and v: one product gives each tensor's rows in turn, in their shared encoding or,
     * when the encodings differ, as floats.
     */
    @Test
    void stackedTensorsGiveEachProductInTurn() {
        Random rnd = new Random(5);
        int cols = 192;
        for (GgmlType kType : new GgmlType[] {GgmlType.Q8_0, GgmlType.F16}) {
            WeightTensor q = RandomTensors.matrix(GgmlType.Q8_0, 12, cols, rnd);
            WeightTensor k = RandomTensors.matrix(kType, 4, cols, rnd);
            WeightTensor v = RandomTensors.matrix(GgmlType.Q8_0, 4, cols, rnd);
            float[] x = RandomTensors.vector(cols, rnd);
            float[] expected = new float[20];
            float[] part = new float[12];
            ScalarReference.matvec(q, x, part);
            System.arraycopy(part, 0, expected, 0, 12);
            ScalarReference.matvec(k, x, part);
            System.arraycopy(part, 0, expected, 12, 4);
            ScalarReference.matvec(v, x, part);
            System.arraycopy(part, 0, expected, 16, 4);

            DeviceMatrix m = DeviceMatrix.stacked(q, k, v);
            assertEquals(kType == GgmlType.Q8_0 ? DeviceMatrix.Q8.class : DeviceMatrix.F32.class, m.getClass());
            FloatArray dx = RandomTensors.device(x), zero = new FloatArray(20), out = new FloatArray(20);
            zero.init(0f);
            FloatArray halfs = Halfs.table();
            DeviceMatrix.InputNorm none = none(cols);
            Graphs.runOnce(new Object[] {halfs, dx, zero, none.weights()}, (g, groups) -> {
                m.upload(g);
                m.linear(g, groups, "qkv", halfs, dx, none, zero, out, false);
            }, out);
            float err = RandomTensors.relativeError(out, expected);
            assertTrue(err <= TOLERANCE, "k " + kType + ": relative error " + err);
        }
    }
}
