package io.flashllm.engine.synth;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Picks the FATReLU threshold under which a target fraction of gate pre-activations falls.
 *
 * <p>Method: for every layer, {@value #STATES} random hidden states (Gaussian, RMS-normalized and
 * scaled by that layer's real ffn_norm weights, as the FFN sees them) are multiplied with up to
 * {@value #ROWS} of that layer's real gate rows; the threshold is the target quantile of all those
 * pre-activations. For random weights this is exact in distribution rather than an approximation
 * of a forward pass: a layer's gate weights are drawn independently of everything that forms its
 * input, so g = w·h depends on the input only through the norm of h, which RMS normalization fixes.
 * Quantization noise of the stored weights (far below the spread of g) is ignored.
 */
final class FatreluCalibration {
    static final int STATES = 32;
    static final int ROWS = 256;

    private FatreluCalibration() {}

    static float threshold(SynthSpec spec, List<SynthTensor> plan, double sparsity) {
        int dim = spec.dim();
        int rowsPerLayer = Math.min(ROWS, spec.ffn());
        float[] values = new float[spec.layers() * rowsPerLayer * STATES];
        int k = 0;
        float[] norm = new float[dim];
        float[] row = new float[dim];
        float[][] states = new float[STATES][dim];
        SplittableRandom rnd = new SplittableRandom(WeightGen.mix(spec.seed() ^ 0x5EED_CA11B_0000L));
        for (int layer = 0; layer < spec.layers(); layer++) {
            SynthTensor gate = find(plan, "ffn_gate", layer);
            SynthTensor ffnNorm = find(plan, "norm", layer, ".post_attention_layernorm.");
            WeightGen.fill(ffnNorm, WeightGen.tensorSeed(spec.seed(), ffnNorm.hfName()), 0, norm);
            for (float[] h : states) {
                double ss = 0;
                for (int i = 0; i < dim; i++) {
                    h[i] = (float) rnd.nextGaussian();
                    ss += h[i] * (double) h[i];
                }
                float inv = (float) (1.0 / Math.sqrt(ss / dim + 1e-5));
                for (int i = 0; i < dim; i++) h[i] *= inv * norm[i];
            }
            long gateSeed = WeightGen.tensorSeed(spec.seed(), gate.hfName());
            for (int r = 0; r < rowsPerLayer; r++) {
                long hfRow = (long) r * spec.ffn() / rowsPerLayer;
                WeightGen.fill(gate, gateSeed, hfRow, row);
                for (float[] h : states) {
                    double dot = 0;
                    for (int i = 0; i < dim; i++) dot += row[i] * (double) h[i];
                    values[k++] = (float) dot;
                }
            }
        }
        Arrays.sort(values);
        int idx = (int) Math.min(values.length - 1, Math.max(0, Math.ceil(sparsity * values.length) - 1));
        return values[idx];
    }

    private static SynthTensor find(List<SynthTensor> plan, String role, int layer, String... nameParts) {
        for (SynthTensor t : plan) {
            if (t.role().equals(role) && t.layer() == layer
                    && Arrays.stream(nameParts).allMatch(p -> t.hfName().contains(p))) {
                return t;
            }
        }
        throw new IllegalStateException("no " + role + " tensor in layer " + layer);
    }
}
