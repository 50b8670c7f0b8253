package io.flashllm.predictor.train;

import io.flashllm.predictor.math.Workers;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TruncatedSvdTest {
    /** Orthonormal columns (as k vectors of length n) by Gram-Schmidt on random vectors. */
    static float[][] orthonormal(Random r, int k, int n) {
        float[][] v = new float[k][n];
        for (float[] x : v) for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        TruncatedSvd.orthonormalize(v, new SplittableRandom(1));
        return v;
    }

    @Test
    void recoversAnExactlyLowRankMatrix() {
        Random r = new Random(7);
        int n = 120;
        int d = 48;
        int k = 5;
        float[][] u = orthonormal(r, k, n);
        float[][] v = orthonormal(r, k, d);
        float[] s = {9f, 5f, 3f, 2f, 0.5f};
        float[] w = new float[n * d];
        for (int i = 0; i < k; i++) for (int a = 0; a < n; a++) for (int b = 0; b < d; b++) w[a * d + b] += s[i] * u[i][a] * v[i][b];
        try (Workers workers = new Workers(2)) {
            TruncatedSvd.Result res = TruncatedSvd.compute(MatrixRows.of(w, n, d), k, 5, 2, 11, workers);
            for (int i = 0; i < k; i++) assertEquals(s[i], res.s()[i], 1e-3, "singular value " + i);
            double err = 0;
            double norm = 0;
            for (int a = 0; a < n; a++) {
                for (int b = 0; b < d; b++) {
                    double rec = 0;
                    for (int i = 0; i < k; i++) rec += (double) res.u()[i][a] * res.s()[i] * res.v()[i][b];
                    err += (rec - w[a * d + b]) * (rec - w[a * d + b]);
                    norm += (double) w[a * d + b] * w[a * d + b];
                }
            }
            assertTrue(Math.sqrt(err / norm) < 1e-4, "relative reconstruction error " + Math.sqrt(err / norm));
        }
    }

    @Test
    void truncationKeepsTheLargestDirectionsOfANoisyMatrix() {
        Random r = new Random(8);
        int n = 200;
        int d = 64;
        float[][] u = orthonormal(r, 3, n);
        float[][] v = orthonormal(r, 3, d);
        float[] s = {40f, 30f, 20f};
        float[] w = new float[n * d];
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < d; b++) {
                float x = (float) r.nextGaussian() * 0.05f;
                for (int i = 0; i < 3; i++) x += s[i] * u[i][a] * v[i][b];
                w[a * d + b] = x;
            }
        }
        try (Workers workers = new Workers(1)) {
            TruncatedSvd.Result res = TruncatedSvd.compute(MatrixRows.of(w, n, d), 3, 10, 2, 3, workers);
            for (int i = 0; i < 3; i++) {
                assertEquals(s[i], res.s()[i], 0.5, "singular value " + i);
                double cos = 0;
                for (int b = 0; b < d; b++) cos += res.v()[i][b] * v[i][b];
                assertTrue(Math.abs(cos) > 0.999, "right vector " + i + " |cos| = " + Math.abs(cos));
            }
        }
    }

    @Test
    void jacobiDiagonalizesASymmetricMatrix() {
        Random r = new Random(9);
        int k = 12;
        double[][] a = new double[k][k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j <= i; j++) {
                a[i][j] = r.nextGaussian();
                a[j][i] = a[i][j];
            }
        }
        double[][] orig = new double[k][];
        for (int i = 0; i < k; i++) orig[i] = a[i].clone();
        double[][] e = new double[k][k];
        double[] lambda = TruncatedSvd.jacobiEigen(a, e);
        for (int c = 0; c < k; c++) {
            for (int i = 0; i < k; i++) {
                double av = 0;
                for (int j = 0; j < k; j++) av += orig[i][j] * e[j][c];
                assertEquals(lambda[c] * e[i][c], av, 1e-9);
            }
        }
    }
}
