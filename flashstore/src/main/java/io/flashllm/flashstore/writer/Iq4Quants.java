package io.flashllm.flashstore.writer;

import java.nio.ByteBuffer;

/**
 * The IQ4 encoders: weights as a scale times a value of a fixed non-linear grid of 16 (denser near
 * zero, where most weights are), looked up by a nibble.
 *
 * <p>IQ4_NL: blocks of 32, an f16 scale then 16 bytes whose low nibbles are elements 0..15 and high
 * nibbles 16..31. IQ4_XS: super-blocks of 256 in eight sub-blocks of 32: f16 d, a 16-bit word with
 * the top 2 bits of each sub-block's 6-bit scale (sub-block k at bits 2k), 4 bytes of the scales'
 * low nibbles (sub-block k in nibble k % 2 of byte k / 2), then each sub-block's nibbles as an
 * IQ4_NL block's; value = d·(scale − 32)·grid[q].
 *
 * <p>A block's scale is fitted by trying a few: the element of largest magnitude mapped onto either
 * end of the grid (the grid is not symmetric, so a negative scale can fit better) at a few
 * stretches; each candidate assigns every element its nearest grid value, is refit by least squares
 * over that assignment and scored by the squared error left. Elements are then assigned against the
 * scale as stored (f16-rounded, and for IQ4_XS the 6-bit step of d).
 */
final class Iq4Quants {
    private Iq4Quants() {}

    static final float[] GRID = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /**
     * The index of the nearest grid value for every half-unit interval of v: entry i covers v in
     * [(i − 256) / 2, (i − 255) / 2). The midpoints between grid values are all multiples of a half,
     * so one interval never straddles two answers.
     */
    private static final byte[] NEAREST = new byte[512];

    static {
        for (int i = 0; i < NEAREST.length; i++) {
            float v = (i - 256) / 2f + 0.25f;
            int best = 0;
            for (int q = 1; q < 16; q++) if (Math.abs(GRID[q] - v) < Math.abs(GRID[best] - v)) best = q;
            NEAREST[i] = (byte) best;
        }
    }

    /** The nibble whose grid value is nearest to {@code v} (values beyond the ends take the ends). */
    static int nearest(float v) {
        float t = 2 * v + 256;
        return NEAREST[t <= 0 ? 0 : t >= 511 ? 511 : (int) t];
    }

    /** Stretches tried at each end of the grid: the end value times 1 + STRETCH·step. */
    private static final int STEPS = 4;
    private static final float STRETCH = 0.04f;

    /** The scale that best fits {@code x[off .. off + 32)} as scale·grid[q] (0 for a zero block). */
    static float fit(float[] x, int off) {
        float amax = 0, max = 0;
        double sxx = 0;
        for (int i = 0; i < 32; i++) {
            float v = x[off + i];
            sxx += (double) v * v;
            if (Math.abs(v) > amax) {
                amax = Math.abs(v);
                max = v;
            }
        }
        if (amax == 0) return 0f;
        float best = max / GRID[0];
        double bestErr = Double.MAX_VALUE;
        for (int end = 0; end < 2; end++) {
            float g = end == 0 ? GRID[0] : GRID[15];
            for (int step = -STEPS; step <= STEPS; step++) {
                float inv = g * (1 + STRETCH * step) / max;
                double sgx = 0, sgg = 0;
                for (int i = 0; i < 32; i++) {
                    float q = GRID[nearest(x[off + i] * inv)];
                    sgx += (double) q * x[off + i];
                    sgg += (double) q * q;
                }
                // least squares over this assignment: scale sgx/sgg leaves sxx − sgx²/sgg
                double err = sxx - sgx * sgx / sgg;
                if (err < bestErr) {
                    bestErr = err;
                    best = (float) (sgx / sgg);
                }
            }
        }
        return best;
    }

    /** 16 bytes of nibbles for {@code x[off .. off + 32)} against {@code scale} (as stored), at {@code at}. */
    private static void putNibbles(float[] x, int off, float scale, byte[] out, int at) {
        float inv = scale == 0 ? 0 : 1f / scale;
        for (int j = 0; j < 16; j++) {
            out[at + j] = (byte) (nearest(x[off + j] * inv) | (nearest(x[off + 16 + j] * inv) << 4));
        }
    }

    /** One IQ4_NL block: the f16 scale, then the nibbles against it. */
    static void iq4NlBlock(float[] x, int off, byte[] out, int at) {
        float d = Quantizer.f16Round(fit(x, off));
        Quantizer.putHalf(out, at, d);
        putNibbles(x, off, d, out, at + 2);
    }

    /** Per-thread working arrays: one super-block's sub-block scales, 6-bit codes and encoded block. */
    private static final class Scratch {
        final float[] scales = new float[8];
        final int[] ls = new int[8];
        final byte[] block = new byte[136];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    static void iq4Xs(float[] x, int off, int n, ByteBuffer dst) {
        Scratch s = SCRATCH.get();
        for (int sb = 0; sb < n; sb += 256) {
            int base = off + sb;
            float maxScale = 0;
            for (int k = 0; k < 8; k++) {
                s.scales[k] = fit(x, base + 32 * k);
                if (Math.abs(s.scales[k]) > Math.abs(maxScale)) maxScale = s.scales[k];
            }
            // the largest scale maps to -32, the long end of six signed bits, so every other one fits
            float d = maxScale == 0 ? 0 : maxScale / -32f;
            float dq = Quantizer.f16Round(d);
            int top = 0;
            byte[] b = s.block;
            java.util.Arrays.fill(b, 4, 8, (byte) 0);
            for (int k = 0; k < 8; k++) {
                int l = dq == 0 ? 0 : Math.max(-32, Math.min(31, Quantizer.nearestInt(s.scales[k] / dq)));
                s.ls[k] = l;
                top |= ((l + 32) >> 4) << (2 * k);
                b[4 + k / 2] |= (byte) (((l + 32) & 15) << (4 * (k % 2)));
                putNibbles(x, base + 32 * k, dq * l, b, 8 + 16 * k);
            }
            Quantizer.putHalf(b, 0, d);
            b[2] = (byte) top;
            b[3] = (byte) (top >> 8);
            dst.put(b);
        }
    }
}
