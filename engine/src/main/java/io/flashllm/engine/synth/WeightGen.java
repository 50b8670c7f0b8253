package io.flashllm.engine.synth;

import java.nio.charset.StandardCharsets;

/**
 * Deterministic random weights addressed by (seed, tensor name, row): any row can be produced on
 * its own, in any order and on any thread, and always comes out the same. That lets the GGUF writer
 * emit q/k rows in llama.cpp's permuted order, and the HF writer in the original order, from the
 * very same weights without holding a tensor in memory.
 *
 * <p>Values are uniform with the requested standard deviation (uniform is much cheaper than
 * Gaussian and, at these sizes, just as good at keeping activations in range).
 */
final class WeightGen {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final float TWO_POW_M24 = 1f / (1 << 24);

    private WeightGen() {}

    static long tensorSeed(long seed, String tensorName) {
        long h = 0xCBF29CE484222325L; // FNV-1a over the name, then mixed with the seed
        for (byte b : tensorName.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xFF)) * 0x100000001B3L;
        }
        return mix(seed * GOLDEN ^ mix(h));
    }

    /** Fills {@code out[off..off+n)} with row {@code row} of a tensor: {@code center + U(-a, a)}, std {@code std}. */
    static void row(long tensorSeed, long row, float center, float std, float[] out, int off, int n) {
        float a = std * (float) Math.sqrt(3.0);
        float scale = 2f * a * TWO_POW_M24;
        long state = mix(tensorSeed + (row + 1) * GOLDEN);
        int i = 0;
        for (; i + 1 < n; i += 2) {
            state += GOLDEN;
            long z = mix(state);
            out[off + i] = center - a + (z >>> 40) * scale;
            out[off + i + 1] = center - a + ((z >>> 16) & 0xFFFFFF) * scale;
        }
        if (i < n) {
            state += GOLDEN;
            out[off + i] = center - a + (mix(state) >>> 40) * scale;
        }
    }

    /** SplitMix64's finalizer: a bijective avalanche of 64 bits. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Row {@code hfRow} of {@code t} (HF orientation) into {@code out[0..cols)}. Norm weights and
     * biases are rounded to BF16 precision, which F16 and F32 also hold exactly, so every output
     * format and weight type of one seed carries the very same values for them.
     */
    static void fill(SynthTensor t, long tensorSeed, long hfRow, float[] out) {
        row(tensorSeed, hfRow, t.center(), t.std(), out, 0, t.cols());
        if (t.vector()) {
            for (int i = 0; i < t.cols(); i++) {
                out[i] = Float.intBitsToFloat((io.flashllm.flashstore.writer.Quantizer.toBf16(out[i]) & 0xFFFF) << 16);
            }
        }
    }
}
