package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.reference.ScalarReference;

/**
 * The plain FFN computed straight from the source model with the scalar reference dequantizer, in
 * double precision, together with a per-output error allowance: float reassociation (the bundle
 * FFN sums in cache order) plus, when down columns were requantized to Q8_0, half a Q8_0 step of
 * each column block (with the F16 scale's rounding) times the neuron's activation.
 */
final class ReferenceFfn {
    final double[] out;
    final double[] tolerance;

    private ReferenceFfn(double[] out, double[] tolerance) {
        this.out = out;
        this.tolerance = tolerance;
    }

    static ReferenceFfn compute(GgufFile src, int layer, FfnActivation act, float[] x, boolean downRequantizedQ8) {
        WeightTensor up = src.tensor("blk." + layer + ".ffn_up.weight");
        WeightTensor gate = src.tensor("blk." + layer + ".ffn_gate.weight");
        WeightTensor down = src.tensor("blk." + layer + ".ffn_down.weight");
        WeightTensor upBias = src.tensor("blk." + layer + ".ffn_up.bias");
        WeightTensor downBias = src.tensor("blk." + layer + ".ffn_down.bias");
        int n = up.rows();
        int dim = up.cols();
        double[] a = new double[n];
        float[] ub = upBias == null ? null : ScalarReference.dequantizeRow(upBias, 0);
        for (int j = 0; j < n; j++) {
            double u = dot(ScalarReference.dequantizeRow(up, j), x) + (ub == null ? 0 : ub[j]);
            if (act.gated()) {
                double g = act.apply((float) dot(ScalarReference.dequantizeRow(gate, j), x));
                a[j] = g * u;
            } else {
                a[j] = act.apply((float) u);
            }
        }
        float[][] downRows = new float[dim][];
        for (int r = 0; r < dim; r++) downRows[r] = ScalarReference.dequantizeRow(down, r);
        double[] out = new double[dim];
        double[] tol = new double[dim];
        float[] db = downBias == null ? null : ScalarReference.dequantizeRow(downBias, 0);
        for (int r = 0; r < dim; r++) {
            double s = 0;
            double mag = 0;
            double q = 0;
            for (int j = 0; j < n; j++) {
                s += downRows[r][j] * a[j];
                mag += Math.abs(downRows[r][j] * a[j]);
                if (downRequantizedQ8) {
                    double amax = 0;
                    int b0 = r / 32 * 32;
                    for (int i = b0; i < b0 + 32; i++) amax = Math.max(amax, Math.abs(downRows[i][j]));
                    q += Math.abs(a[j]) * 0.6 * amax / 127;
                }
            }
            out[r] = s + (db == null ? 0 : db[r]);
            tol[r] = 1e-4 * mag + q + 1e-5;
        }
        return new ReferenceFfn(out, tol);
    }

    private static double dot(float[] w, float[] x) {
        double s = 0;
        for (int i = 0; i < w.length; i++) s += (double) w[i] * x[i];
        return s;
    }
}
