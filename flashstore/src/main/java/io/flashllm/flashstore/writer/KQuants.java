package io.flashllm.flashstore.writer;

import java.nio.ByteBuffer;

/**
 * The k-quant encoders (super-blocks of 256 values).
 *
 * <p>Q4_K: 8 sub-blocks of 32, value = d·sc·q − dmin·m with q in 0..15 and 6-bit sc, m per
 * sub-block. Layout: f16 d, f16 dmin, 12 bytes of packed scales/mins, 128 bytes of nibbles where
 * each 32-byte group holds sub-block 2k in its low nibbles and sub-block 2k+1 in its high nibbles.
 *
 * <p>Q5_K: Q4_K with q in 0..31: f16 d, f16 dmin, the 12 bytes of scales/mins packed as Q4_K's,
 * 32 bytes of fifth bits, then the low four bits in 128 bytes of nibbles laid out as Q4_K's. Value
 * 32k + l (sub-block k, 0 ≤ l < 32) keeps its fifth bit in bit k of fifth-bit byte l.
 *
 * <p>Q2_K: 16 sub-blocks of 16, value = d·sc·q − dmin·m with q in 0..3 and 4-bit sc, m per
 * sub-block. Layout: 16 bytes of scales (sc low nibble, m high), 64 bytes of 2-bit q, f16 d, f16
 * dmin; within each half of 128 values, byte l holds values l, l+32, l+64 and l+96 in bits 0-1,
 * 2-3, 4-5 and 6-7.
 *
 * <p>Q3_K: 16 sub-blocks of 16, value = d·sc·(q − 4) with q in 0..7 and signed 6-bit sc.
 * Layout: 32 bytes of high bits (bit r of byte l is the high bit of value 32r + l), 64 bytes of
 * the low 2 bits laid out as Q2_K's q, 12 bytes of scales (sc + 32 in 0..63: byte i holds the low
 * nibbles of scales i and i+8, byte 8+i the top 2 bits of scales i, i+4, i+8, i+12), f16 d.
 *
 * <p>Q6_K: 16 sub-blocks of 16, value = d·sc·(q − 32) with q in 0..63 and signed 8-bit sc.
 * Layout: 128 bytes of low nibbles, 64 bytes of high 2-bit pairs, 16 scales, f16 d; within each
 * half of 128 values, byte l of ql holds values l (low) and l+64 (high), byte l+32 holds l+32 and
 * l+96, and byte l of qh holds the top bits of l, l+32, l+64, l+96.
 *
 * <p>Sub-block scales are fitted by a small search over candidate step sizes, each followed by a
 * least-squares refit, keeping the one with the lowest squared error.
 */
final class KQuants {
    private KQuants() {}

    /** Per-thread working arrays, so that encoding millions of rows allocates nothing per super-block. */
    private static final class Scratch {
        final byte[] levels = new byte[256];
        final float[] scales = new float[16];
        final float[] mins = new float[16];
        final int[] ls = new int[16];
        final int[] lm = new int[16];
        final byte[] packed = new byte[12];
        final byte[] sc = new byte[16];
        final int[] q = new int[32];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    static void q4K(float[] x, int off, int n, ByteBuffer dst) {
        Scratch s = SCRATCH.get();
        for (int sb = 0; sb < n; sb += 256) {
            affineSuperBlock(x, off + sb, 15, s, dst);
            putNibbleGroups(s.levels, dst);
        }
    }

    static void q5K(float[] x, int off, int n, ByteBuffer dst) {
        Scratch s = SCRATCH.get();
        for (int sb = 0; sb < n; sb += 256) {
            affineSuperBlock(x, off + sb, 31, s, dst);
            for (int l = 0; l < 32; l++) {
                int bits = 0;
                for (int k = 0; k < 8; k++) bits |= (s.levels[32 * k + l] >> 4) << k;
                dst.put((byte) bits);
            }
            putNibbleGroups(s.levels, dst);
        }
    }

    /**
     * The part Q4_K and Q5_K share: fits the 8 sub-blocks of the super-block at {@code base} with
     * levels 0..top, writes d, dmin and the packed 6-bit scales and mins, and leaves the levels in
     * {@code s.levels}.
     */
    private static void affineSuperBlock(float[] x, int base, int top, Scratch s, ByteBuffer dst) {
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++) {
            fitAffine(x, base + 32 * j, 32, top, s, j);
            maxScale = Math.max(maxScale, s.scales[j]);
            maxMin = Math.max(maxMin, s.mins[j]);
        }
        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        for (int j = 0; j < 8; j++) {
            s.ls[j] = Math.min(63, (int) Math.rint(invScale * s.scales[j]));
            s.lm[j] = Math.min(63, (int) Math.rint(invMin * s.mins[j]));
        }
        float d = Quantizer.f16Round(maxScale / 63f);
        float dmin = Quantizer.f16Round(maxMin / 63f);
        // Quantize against the scales a reader will reconstruct, not the fitted ones.
        for (int j = 0; j < 8; j++) {
            float step = d * s.ls[j];
            float inv = step == 0 ? 0 : 1f / step;
            float m = dmin * s.lm[j];
            for (int i = 0; i < 32; i++) {
                int q = Quantizer.nearestInt((x[base + 32 * j + i] + m) * inv);
                s.levels[32 * j + i] = (byte) (q < 0 ? 0 : q > top ? top : q);
            }
        }
        packScalesMins(s.ls, s.lm, s.packed);
        dst.putShort(Float.floatToFloat16(maxScale / 63f));
        dst.putShort(Float.floatToFloat16(maxMin / 63f));
        dst.put(s.packed);
    }

    /** The low four bits of the levels: each 32-byte group holds sub-block 2k low, 2k+1 high. */
    private static void putNibbleGroups(byte[] levels, ByteBuffer dst) {
        for (int g = 0; g < 256; g += 64) {
            for (int l = 0; l < 32; l++) {
                dst.put((byte) ((levels[g + l] & 15) | ((levels[g + 32 + l] & 15) << 4)));
            }
        }
    }

    /**
     * 6-bit scale and min of sub-block j: for j < 4 the low 6 bits of bytes j and j+4; for j ≥ 4 the
     * low/high nibble of byte j+4 plus the top 2 bits of bytes j−4 (scale) and j (min).
     */
    static void packScalesMins(int[] ls, int[] lm, byte[] out) {
        java.util.Arrays.fill(out, (byte) 0);
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                out[j] |= (byte) (ls[j] & 63);
                out[j + 4] |= (byte) (lm[j] & 63);
            } else {
                out[j + 4] = (byte) ((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
                out[j - 4] |= (byte) ((ls[j] >> 4) << 6);
                out[j] |= (byte) ((lm[j] >> 4) << 6);
            }
        }
    }

    /**
     * Fits x ≈ scale·q − min with q in 0..nmax and min ≥ 0 (the format cannot shift upwards).
     * Tries step sizes around (max − min)/nmax; for each, rounds to levels, refits scale and min by
     * least squares and scores that fit on those levels. Leaves scale and min in {@code s.scales[j]}
     * and {@code s.mins[j]}.
     */
    private static void fitAffine(float[] x, int off, int n, int nmax, Scratch s, int j) {
        float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            lo = Math.min(lo, x[off + i]);
            hi = Math.max(hi, x[off + i]);
        }
        if (lo > 0) lo = 0;
        if (hi <= lo) {
            s.scales[j] = 0f;
            s.mins[j] = -lo;
            return;
        }
        float bestA = (hi - lo) / nmax, bestB = lo;
        double bestErr = Double.MAX_VALUE;
        int[] q = s.q;
        for (int step = -AFFINE_STEPS; step <= AFFINE_STEPS; step++) {
            float iscale = (nmax + AFFINE_DELTA * step) / (hi - lo);
            double sl = 0, sl2 = 0, sx = 0, slx = 0;
            for (int i = 0; i < n; i++) {
                float v = x[off + i];
                int l = Quantizer.nearestInt(iscale * (v - lo));
                l = l < 0 ? 0 : l > nmax ? nmax : l;
                q[i] = l;
                sl += l;
                sl2 += (double) l * l;
                sx += v;
                slx += (double) l * v;
            }
            double det = n * sl2 - sl * sl;
            if (det <= 0) continue;
            double a = (n * slx - sl * sx) / det;
            double b = (sl2 * sx - sl * slx) / det;
            if (b > 0) {
                b = 0;
                a = slx / sl2;
            }
            if (a <= 0) continue;
            double err = 0;
            for (int i = 0; i < n; i++) {
                double e = a * q[i] + b - x[off + i];
                err += e * e;
            }
            if (err < bestErr) {
                bestErr = err;
                bestA = (float) a;
                bestB = (float) b;
            }
        }
        s.scales[j] = bestA;
        s.mins[j] = -bestB;
    }

    /** Candidate step sizes: nmax ± AFFINE_STEPS·AFFINE_DELTA levels across the range. */
    private static final int AFFINE_STEPS = 5;
    private static final float AFFINE_DELTA = 0.2f;

    static void q2K(float[] x, int off, int n, ByteBuffer dst) {
        Scratch s = SCRATCH.get();
        byte[] levels = s.levels;
        for (int sb = 0; sb < n; sb += 256) {
            int base = off + sb;
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 16; j++) {
                fitAffine(x, base + 16 * j, 16, 3, s, j);
                maxScale = Math.max(maxScale, s.scales[j]);
                maxMin = Math.max(maxMin, s.mins[j]);
            }
            float d = Quantizer.f16Round(maxScale / 15f);
            float dmin = Quantizer.f16Round(maxMin / 15f);
            for (int j = 0; j < 16; j++) {
                s.ls[j] = d == 0 ? 0 : Math.min(15, (int) Math.rint(s.scales[j] / d));
                s.lm[j] = dmin == 0 ? 0 : Math.min(15, (int) Math.rint(s.mins[j] / dmin));
                // quantized against the scale and min a reader reconstructs, not the fitted ones
                float step = d * s.ls[j];
                float inv = step == 0 ? 0 : 1f / step;
                float m = dmin * s.lm[j];
                for (int i = 0; i < 16; i++) {
                    int q = Quantizer.nearestInt((x[base + 16 * j + i] + m) * inv);
                    levels[16 * j + i] = (byte) (q < 0 ? 0 : q > 3 ? 3 : q);
                }
            }
            for (int j = 0; j < 16; j++) dst.put((byte) (s.ls[j] | (s.lm[j] << 4)));
            putTwoBitRuns(levels, dst);
            dst.putShort(Float.floatToFloat16(d));
            dst.putShort(Float.floatToFloat16(dmin));
        }
    }

    static void q3K(float[] x, int off, int n, ByteBuffer dst) {
        Scratch s = SCRATCH.get();
        float[] scales = s.scales;
        byte[] levels = s.levels;
        for (int sb = 0; sb < n; sb += 256) {
            int base = off + sb;
            float maxScale = fitSymmetricSubBlocks(x, base, 4, s);
            int[] ls = s.ls;
            float d = 0;
            java.util.Arrays.fill(ls, 0);
            if (maxScale != 0) {
                // the largest scale maps to -32, so every other one fits in six signed bits
                float iscale = -32f / maxScale;
                d = 1f / iscale;
                for (int j = 0; j < 16; j++) ls[j] = Math.max(-32, Math.min(31, (int) Math.rint(iscale * scales[j])));
            }
            float dq = Quantizer.f16Round(d);
            for (int j = 0; j < 16; j++) {
                float step = dq * ls[j];
                float inv = step == 0 ? 0 : 1f / step;
                for (int i = 0; i < 16; i++) {
                    int q = Quantizer.nearestInt(x[base + 16 * j + i] * inv);
                    levels[16 * j + i] = (byte) ((q < -4 ? -4 : q > 3 ? 3 : q) + 4);
                }
            }
            for (int l = 0; l < 32; l++) {
                int bits = 0;
                for (int r = 0; r < 8; r++) bits |= ((levels[32 * r + l] >> 2) & 1) << r;
                dst.put((byte) bits);
            }
            putTwoBitRuns(levels, dst);
            for (int i = 0; i < 8; i++) dst.put((byte) (((ls[i] + 32) & 15) | (((ls[i + 8] + 32) & 15) << 4)));
            for (int i = 0; i < 4; i++) {
                int top = 0;
                for (int m = 0; m < 4; m++) top |= (((ls[i + 4 * m] + 32) >> 4) & 3) << (2 * m);
                dst.put((byte) top);
            }
            dst.putShort(Float.floatToFloat16(d));
        }
    }

    /** The low two bits of the levels: byte l of each half's 32 bytes holds its values l, l+32, l+64, l+96. */
    private static void putTwoBitRuns(byte[] levels, ByteBuffer dst) {
        for (int h = 0; h < 256; h += 128) {
            for (int l = 0; l < 32; l++) {
                int b = 0;
                for (int r = 0; r < 4; r++) b |= (levels[h + 32 * r + l] & 3) << (2 * r);
                dst.put((byte) b);
            }
        }
    }

    static void q6K(float[] x, int off, int n, ByteBuffer dst) {
        Scratch s = SCRATCH.get();
        float[] scales = s.scales;
        byte[] levels = s.levels;
        byte[] sc = s.sc;
        for (int sb = 0; sb < n; sb += 256) {
            int base = off + sb;
            float maxScale = fitSymmetricSubBlocks(x, base, 32, s);
            java.util.Arrays.fill(sc, (byte) 0);
            float d = 0;
            if (maxScale != 0) {
                // The largest scale maps to -128, so every other one fits in a signed byte.
                float iscale = -128f / maxScale;
                d = 1f / iscale;
                for (int j = 0; j < 16; j++) {
                    sc[j] = (byte) Math.max(-128, Math.min(127, (int) Math.rint(iscale * scales[j])));
                }
            }
            float dq = Quantizer.f16Round(d);
            for (int j = 0; j < 16; j++) {
                float step = dq * sc[j];
                float inv = step == 0 ? 0 : 1f / step;
                for (int i = 0; i < 16; i++) {
                    int q = Quantizer.nearestInt(x[base + 16 * j + i] * inv);
                    levels[16 * j + i] = (byte) ((q < -32 ? -32 : q > 31 ? 31 : q) + 32);
                }
            }
            for (int h = 0; h < 256; h += 128) {
                for (int l = 0; l < 32; l++) {
                    int q1 = levels[h + l] & 0xF, q3 = levels[h + l + 64] & 0xF;
                    dst.put((byte) (q1 | (q3 << 4)));
                }
                for (int l = 0; l < 32; l++) {
                    int q2 = levels[h + l + 32] & 0xF, q4 = levels[h + l + 96] & 0xF;
                    dst.put((byte) (q2 | (q4 << 4)));
                }
            }
            for (int h = 0; h < 256; h += 128) {
                for (int l = 0; l < 32; l++) {
                    int b = (levels[h + l] >> 4) | ((levels[h + l + 32] >> 4) << 2)
                            | ((levels[h + l + 64] >> 4) << 4) | ((levels[h + l + 96] >> 4) << 6);
                    dst.put((byte) b);
                }
            }
            dst.put(sc);
            dst.putShort(Float.floatToFloat16(d));
        }
    }

    /**
     * Fits the 16 sub-blocks of 16 of the super-block at {@code base} with {@link #fitSymmetric}
     * into {@code s.scales}; returns the scale of largest magnitude (with its sign).
     */
    private static float fitSymmetricSubBlocks(float[] x, int base, int nmax, Scratch s) {
        float maxScale = 0;
        for (int j = 0; j < 16; j++) {
            s.scales[j] = fitSymmetric(x, base + 16 * j, 16, nmax, s.q);
            if (Math.abs(s.scales[j]) > Math.abs(maxScale)) maxScale = s.scales[j];
        }
        return maxScale;
    }

    /**
     * Fits x ≈ scale·q with q in −nmax..nmax−1; the value of largest magnitude starts at −nmax,
     * where the range is one step longer. Like {@link #fitAffine}, a few step sizes are tried, each
     * refit by least squares and scored on its own levels, {@code q} holding them. Returns the
     * (possibly negative) scale.
     */
    private static float fitSymmetric(float[] x, int off, int n, int nmax, int[] q) {
        float amax = 0, max = 0;
        for (int i = 0; i < n; i++) {
            float v = x[off + i];
            if (Math.abs(v) > amax) {
                amax = Math.abs(v);
                max = v;
            }
        }
        if (amax == 0) return 0f;
        float best = -max / nmax;
        double bestErr = Double.MAX_VALUE;
        for (int step = -AFFINE_STEPS; step <= AFFINE_STEPS; step++) {
            float iscale = -(nmax + AFFINE_DELTA * step) / max;
            double slx = 0, sl2 = 0;
            for (int i = 0; i < n; i++) {
                int l = Quantizer.nearestInt(iscale * x[off + i]);
                l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
                q[i] = l;
                slx += (double) l * x[off + i];
                sl2 += (double) l * l;
            }
            if (sl2 == 0) continue;
            double sc = slx / sl2;
            double err = 0;
            for (int i = 0; i < n; i++) {
                double e = sc * q[i] - x[off + i];
                err += e * e;
            }
            if (err < bestErr) {
                bestErr = err;
                best = (float) sc;
            }
        }
        return best;
    }
}
