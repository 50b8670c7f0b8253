package io.flashllm.tornado;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.reference.ScalarReference;
import org.junit.jupiter.api.Test;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device matvecs against the scalar reference, for every encoding the device keeps. */
class MatVecKernelsTest {
    /** Float sums in another order than the reference's double sums: a few ulps per term. */
    static final float TOLERANCE = 1e-4f;

    private static void check(GgmlType type, int rows, int cols) {
        Random rnd = new Random(rows * 31L + cols);
        WeightTensor w = RandomTensors.matrix(type, rows, cols, rnd);
        float[] x = RandomTensors.vector(cols, rnd);
        float[] expected = new float[rows];
        ScalarReference.matvec(w, x, expected);

        DeviceMatrix m = DeviceMatrix.of(w);
        FloatArray dx = RandomTensors.device(x);
        FloatArray out = new FloatArray(rows);
        FloatArray halfs = Halfs.table();
        Graphs.runOnce(new Object[] {halfs, dx}, g -> {
            m.upload(g);
            m.matvec(g, "mv", halfs, dx, out);
        }, out);
        float err = RandomTensors.relativeError(out, expected);
        assertTrue(err <= TOLERANCE, type + " " + rows + "x" + cols + ": relative error " + err);
    }

    @Test
    void f16MatchesTheReference() {
        check(GgmlType.F16, 96, 256);
    }

    @Test
    void q8MatchesTheReference() {
        check(GgmlType.Q8_0, 80, 256);
    }

    @Test
    void f32MatchesTheReference() {
        check(GgmlType.F32, 33, 64);
    }
}
