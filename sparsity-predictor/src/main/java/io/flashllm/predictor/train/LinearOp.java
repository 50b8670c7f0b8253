package io.flashllm.predictor.train;

import io.flashllm.predictor.math.Workers;

/**
 * A matrix known only by its products, which is all the randomized SVD needs: {@link #of} wraps a
 * row-readable matrix, {@link #projected} the pre-activation matrix W X^T of a layer over a set of
 * calibration inputs without ever forming it.
 */
public interface LinearOp {
    int rows();

    int cols();

    /** W x for each x (length cols); results have length rows. */
    float[][] times(float[][] xs, Workers workers);

    /** W^T q for each q (length rows); results have length cols. */
    float[][] transposeTimes(float[][] qs, Workers workers);

    static LinearOp of(MatrixRows w) {
        return new LinearOp() {
            @Override
            public int rows() {
                return w.rows();
            }

            @Override
            public int cols() {
                return w.cols();
            }

            @Override
            public float[][] times(float[][] xs, Workers workers) {
                return TruncatedSvd.multiply(w, xs, workers);
            }

            @Override
            public float[][] transposeTimes(float[][] qs, Workers workers) {
                return TruncatedSvd.multiplyTransposed(w, qs, workers);
            }
        };
    }

    /**
     * Y = W X^T (neurons x tokens): the pre-activations of {@code count} inputs stored row-major in
     * {@code x} from record {@code first}. Its top left singular vectors span the directions in
     * which this layer's pre-activations actually vary on real inputs, a better start for the
     * predictor than the gate's own singular vectors when hidden states are anisotropic.
     */
    static LinearOp projected(MatrixRows w, float[] x, int first, int count) {
        int d = w.cols();
        LinearOp wo = of(w);
        return new LinearOp() {
            @Override
            public int rows() {
                return w.rows();
            }

            @Override
            public int cols() {
                return count;
            }

            @Override
            public float[][] times(float[][] omegas, Workers workers) {
                // W (X^T omega): first combine the inputs, then one pass over W.
                float[][] v = new float[omegas.length][d];
                workers.forRange(omegas.length, (i0, i1) -> {
                    for (int i = i0; i < i1; i++) {
                        for (int t = 0; t < count; t++) {
                            float a = omegas[i][t];
                            if (a != 0f) io.flashllm.predictor.math.Vec.axpy(a, x, (first + t) * d, v[i], 0, d);
                        }
                    }
                });
                return wo.times(v, workers);
            }

            @Override
            public float[][] transposeTimes(float[][] qs, Workers workers) {
                // X (W^T q): one pass over W, then dots with the inputs.
                float[][] u = wo.transposeTimes(qs, workers);
                float[][] out = new float[qs.length][count];
                workers.forRange(qs.length, (i0, i1) -> {
                    for (int i = i0; i < i1; i++) {
                        for (int t = 0; t < count; t++) out[i][t] = io.flashllm.predictor.math.Vec.dot(x, (first + t) * d, u[i], 0, d);
                    }
                });
                return out;
            }
        };
    }
}
