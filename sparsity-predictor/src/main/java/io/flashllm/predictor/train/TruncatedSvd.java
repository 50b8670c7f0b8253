package io.flashllm.predictor.train;

import io.flashllm.predictor.math.Vec;
import io.flashllm.predictor.math.Workers;

import java.util.SplittableRandom;

/**
 * Randomized truncated SVD (Halko, Martinsson and Tropp's range finder with power iterations):
 * W (n x d) ~ U diag(s) V^T with rank r. Only row access to W is needed; each pass decodes every
 * row once. The small k x k eigenproblem at the end is solved with cyclic Jacobi rotations in
 * double precision, which is exact enough and needs no library.
 */
public final class TruncatedSvd {
    /**
     * @param u rows x rank, column-major as {@code u[i]} = i-th left singular vector (length rows)
     * @param s singular values, descending
     * @param v rank x cols: {@code v[i]} = i-th right singular vector (length cols)
     */
    public record Result(float[][] u, float[] s, float[][] v) {
        public int rank() {
            return s.length;
        }
    }

    private TruncatedSvd() {}

    /**
     * @param rank        how many singular triplets
     * @param oversample  extra random directions (10 is customary)
     * @param powerIters  power iterations; 2 separates slowly decaying spectra well enough
     */
    public static Result compute(MatrixRows w, int rank, int oversample, int powerIters, long seed, Workers workers) {
        return compute(LinearOp.of(w), rank, oversample, powerIters, seed, workers);
    }

    /** The same over any linear operator that can multiply by itself and by its transpose. */
    public static Result compute(LinearOp w, int rank, int oversample, int powerIters, long seed, Workers workers) {
        int n = w.rows();
        int d = w.cols();
        if (rank < 1 || rank > Math.min(n, d)) {
            throw new IllegalArgumentException("rank " + rank + " must be between 1 and min(rows, cols) = " + Math.min(n, d));
        }
        int k = Math.min(Math.min(n, d), rank + Math.max(0, oversample));
        SplittableRandom rnd = new SplittableRandom(seed);
        float[][] omega = new float[k][d];
        for (float[] o : omega) for (int c = 0; c < d; c++) o[c] = (float) gaussian(rnd);

        float[][] q = w.times(omega, workers); // k vectors of length n
        orthonormalize(q, rnd);
        for (int it = 0; it < powerIters; it++) {
            float[][] z = w.transposeTimes(q, workers); // k x d
            orthonormalize(z, rnd);
            q = w.times(z, workers);
            orthonormalize(q, rnd);
        }
        float[][] b = w.transposeTimes(q, workers); // B = Q^T W, k x d
        // B B^T = E diag(lambda) E^T; singular values sqrt(lambda), V_i = B^T E_i / s_i, U = Q E.
        double[][] g = new double[k][k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j <= i; j++) {
                double dot = 0;
                for (int c = 0; c < d; c++) dot += (double) b[i][c] * b[j][c];
                g[i][j] = dot;
                g[j][i] = dot;
            }
        }
        double[][] e = new double[k][k];
        double[] lambda = jacobiEigen(g, e);
        Integer[] order = new Integer[k];
        for (int i = 0; i < k; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, c) -> Double.compare(lambda[c], lambda[a]));

        float[][] u = new float[rank][n];
        float[] s = new float[rank];
        float[][] v = new float[rank][d];
        for (int t = 0; t < rank; t++) {
            int col = order[t];
            double sv = Math.sqrt(Math.max(0, lambda[col]));
            s[t] = (float) sv;
            for (int m = 0; m < k; m++) {
                float coef = (float) e[m][col];
                if (coef != 0f) {
                    Vec.axpy(coef, q[m], 0, u[t], 0, n);
                    if (sv > 0) Vec.axpy((float) (coef / sv), b[m], 0, v[t], 0, d);
                }
            }
        }
        return new Result(u, s, v);
    }

    /** Y_i = W x_i for each x_i of length cols: returns vectors of length rows. */
    static float[][] multiply(MatrixRows w, float[][] xs, Workers workers) {
        int n = w.rows();
        int d = w.cols();
        float[][] y = new float[xs.length][n];
        workers.forRange(n, (from, to) -> {
            float[] row = new float[d];
            for (int r = from; r < to; r++) {
                w.row(r, row);
                for (int i = 0; i < xs.length; i++) y[i][r] = Vec.dot(row, 0, xs[i], 0, d);
            }
        });
        return y;
    }

    /** Z_i = W^T q_i for each q_i of length rows: returns vectors of length cols. */
    static float[][] multiplyTransposed(MatrixRows w, float[][] qs, Workers workers) {
        int n = w.rows();
        int d = w.cols();
        int k = qs.length;
        int parts = Math.min(n, workers.threads());
        float[][][] partial = new float[parts][][];
        workers.forRange(parts, (p0, p1) -> {
            float[] row = new float[d];
            for (int p = p0; p < p1; p++) {
                float[][] z = new float[k][d];
                int from = (int) ((long) n * p / parts);
                int to = (int) ((long) n * (p + 1) / parts);
                for (int r = from; r < to; r++) {
                    w.row(r, row);
                    for (int i = 0; i < k; i++) {
                        float a = qs[i][r];
                        if (a != 0f) Vec.axpy(a, row, 0, z[i], 0, d);
                    }
                }
                partial[p] = z;
            }
        });
        float[][] z = partial[0];
        for (int p = 1; p < parts; p++) for (int i = 0; i < k; i++) Vec.axpy(1f, partial[p][i], 0, z[i], 0, d);
        return z;
    }

    /**
     * Modified Gram-Schmidt, twice ("twice is enough" for float round-off); a vector that vanishes
     * (rank-deficient input) is replaced by a random one orthogonal to the rest.
     */
    static void orthonormalize(float[][] vs, SplittableRandom rnd) {
        int len = vs[0].length;
        for (int i = 0; i < vs.length; i++) {
            double before = Math.sqrt(Vec.norm2(vs[i], 0, len));
            for (int attempt = 0; ; attempt++) {
                for (int pass = 0; pass < 2; pass++) {
                    for (int j = 0; j < i; j++) {
                        float proj = Vec.dot(vs[j], 0, vs[i], 0, len);
                        Vec.axpy(-proj, vs[j], 0, vs[i], 0, len);
                    }
                }
                double norm = Math.sqrt(Vec.norm2(vs[i], 0, len));
                if (norm > 1e-6 * Math.max(before, 1e-30) && norm > 1e-30) {
                    float inv = (float) (1.0 / norm);
                    for (int c = 0; c < len; c++) vs[i][c] *= inv;
                    break;
                }
                if (attempt > 8) throw new IllegalStateException("cannot complete an orthonormal basis");
                for (int c = 0; c < len; c++) vs[i][c] = (float) gaussian(rnd);
                before = Math.sqrt(Vec.norm2(vs[i], 0, len));
            }
        }
    }

    /**
     * Eigen-decomposition of the symmetric matrix {@code a} (destroyed) by cyclic Jacobi rotations:
     * returns the eigenvalues; column j of {@code vectors} is the j-th eigenvector.
     */
    static double[] jacobiEigen(double[][] a, double[][] vectors) {
        int k = a.length;
        for (int i = 0; i < k; i++) {
            java.util.Arrays.fill(vectors[i], 0);
            vectors[i][i] = 1;
        }
        double scale = 0;
        for (double[] row : a) for (double x : row) scale += x * x;
        for (int sweep = 0; sweep < 60; sweep++) {
            double off = 0;
            for (int p = 0; p < k; p++) for (int q = p + 1; q < k; q++) off += a[p][q] * a[p][q];
            if (off <= 1e-26 * scale || off == 0) break;
            for (int p = 0; p < k; p++) {
                for (int q = p + 1; q < k; q++) {
                    double apq = a[p][q];
                    if (Math.abs(apq) < 1e-300) continue;
                    double theta = (a[q][q] - a[p][p]) / (2 * apq);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int r = 0; r < k; r++) {
                        double arp = a[r][p];
                        double arq = a[r][q];
                        a[r][p] = c * arp - s * arq;
                        a[r][q] = s * arp + c * arq;
                    }
                    for (int r = 0; r < k; r++) {
                        double apr = a[p][r];
                        double aqr = a[q][r];
                        a[p][r] = c * apr - s * aqr;
                        a[q][r] = s * apr + c * aqr;
                    }
                    for (int r = 0; r < k; r++) {
                        double vrp = vectors[r][p];
                        double vrq = vectors[r][q];
                        vectors[r][p] = c * vrp - s * vrq;
                        vectors[r][q] = s * vrp + c * vrq;
                    }
                }
            }
        }
        double[] lambda = new double[k];
        for (int i = 0; i < k; i++) lambda[i] = a[i][i];
        return lambda;
    }

    static double gaussian(SplittableRandom rnd) {
        double u1 = rnd.nextDouble();
        double u2 = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
