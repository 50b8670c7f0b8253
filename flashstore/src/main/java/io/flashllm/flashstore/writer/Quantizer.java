package io.flashllm.flashstore.writer;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.RowEncoder;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Encodes F32 values into the tensor encodings flashllm writes: F32, F16, BF16, Q8_0, Q4_0, Q4_1,
 * Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and MXFP4, in ggml's block layouts (see {@link GgmlType}). Quantizers are
 * deterministic: the same input always gives the same bytes, so synthesized model files are
 * reproducible.
 */
public final class Quantizer {
    private Quantizer() {}

    public static boolean supports(GgmlType type) {
        return switch (type) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS, MXFP4 -> true;
        };
    }

    /**
     * Encodes {@code n} values of {@code src} from {@code off} into {@code dst} at its position
     * (which advances); {@code n} must be a whole number of {@code type}'s blocks.
     */
    public static void quantize(GgmlType type, float[] src, int off, int n, ByteBuffer dst) {
        if (n % type.blockSize != 0) {
            throw new IllegalArgumentException(n + " values are not a whole number of " + type + " blocks");
        }
        if (dst.order() != ByteOrder.LITTLE_ENDIAN) throw new IllegalArgumentException("buffer must be little-endian");
        switch (type) {
            case F32 -> {
                dst.asFloatBuffer().put(src, off, n);
                dst.position(dst.position() + 4 * n);
            }
            case F16 -> {
                short[] h = shortScratch(n);
                for (int i = 0; i < n; i++) h[i] = Float.floatToFloat16(src[off + i]);
                dst.asShortBuffer().put(h, 0, n);
                dst.position(dst.position() + 2 * n);
            }
            case BF16 -> {
                short[] h = shortScratch(n);
                for (int i = 0; i < n; i++) h[i] = toBf16(src[off + i]);
                dst.asShortBuffer().put(h, 0, n);
                dst.position(dst.position() + 2 * n);
            }
            case Q8_0 -> blocks(type, src, off, n, dst, Quantizer::q8_0Block);
            case Q4_0 -> blocks(type, src, off, n, dst, Quantizer::q4_0Block);
            case Q4_1 -> blocks(type, src, off, n, dst, Quantizer::q4_1Block);
            case Q5_0 -> blocks(type, src, off, n, dst, Quantizer::q5_0Block);
            case Q5_1 -> blocks(type, src, off, n, dst, Quantizer::q5_1Block);
            case Q2_K -> KQuants.q2K(src, off, n, dst);
            case Q3_K -> KQuants.q3K(src, off, n, dst);
            case Q4_K -> KQuants.q4K(src, off, n, dst);
            case Q5_K -> KQuants.q5K(src, off, n, dst);
            case Q6_K -> KQuants.q6K(src, off, n, dst);
            case IQ4_NL -> blocks(type, src, off, n, dst, Iq4Quants::iq4NlBlock);
            case IQ4_XS -> Iq4Quants.iq4Xs(src, off, n, dst);
            case MXFP4 -> blocks(type, src, off, n, dst, Quantizer::mxfp4Block);
        }
    }

    /** Encodes one 32-value block of {@code x} from {@code off} into {@code out} at {@code at}. */
    @FunctionalInterface
    private interface BlockEncoder {
        void encode(float[] x, int off, byte[] out, int at);
    }

    /** Encodes whole blocks into per-thread staging, then copies them to {@code dst} in one put. */
    private static void blocks(GgmlType type, float[] src, int off, int n, ByteBuffer dst, BlockEncoder encoder) {
        int count = n / type.blockSize;
        int bytes = count * type.blockBytes;
        byte[] out = byteScratch(bytes);
        for (int b = 0; b < count; b++) encoder.encode(src, off + type.blockSize * b, out, type.blockBytes * b);
        dst.put(out, 0, bytes);
    }

    // Per-thread staging for one encoded row, so that encoding millions of rows allocates nothing.
    private static final ThreadLocal<byte[]> BYTES = ThreadLocal.withInitial(() -> new byte[0]);
    private static final ThreadLocal<short[]> SHORTS = ThreadLocal.withInitial(() -> new short[0]);

    private static byte[] byteScratch(int n) {
        byte[] b = BYTES.get();
        if (b.length < n) BYTES.set(b = new byte[n]);
        return b;
    }

    private static short[] shortScratch(int n) {
        short[] s = SHORTS.get();
        if (s.length < n) SHORTS.set(s = new short[n]);
        return s;
    }

    /** The encoding of all of {@code src}. */
    public static byte[] quantize(GgmlType type, float[] src) {
        long bytes = type.bytesFor(src.length);
        if (bytes < 0) throw new IllegalArgumentException(src.length + " values are not a whole number of " + type + " blocks");
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
        quantize(type, src, 0, src.length, b);
        return b.array();
    }

    /** BF16 is the top half of an F32; round to nearest even instead of truncating, keep NaNs quiet. */
    public static short toBf16(float f) {
        return RowEncoder.toBf16(f);
    }

    /** f32 → f16 → f32, the value a reader will see for a stored scale. */
    static float f16Round(float f) {
        return Float.float16ToFloat(Float.floatToFloat16(f));
    }

    /** Q8_0: d = max|x| / 127 stored as f16, then 32 signed bytes round(x / d). */
    private static void q8_0Block(float[] x, int off, byte[] out, int at) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            float a = Math.abs(x[off + j]);
            amax = a > amax ? a : amax; // not Math.max: its NaN/-0 rules cost a branch per element
        }
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        putHalf(out, at, d);
        // |x * id| <= 127 by construction, so no clamp is needed
        for (int j = 0; j < 32; j++) out[at + 2 + j] = (byte) nearestInt(x[off + j] * id);
    }

    /**
     * Q4_0: value = d * (q - 8) with q in 0..15. The element of largest magnitude maps exactly to
     * q = 0 (d = max / -8), which spends the asymmetric range on the side that needs it.
     * Low nibbles hold elements 0..15, high nibbles 16..31.
     */
    private static void q4_0Block(float[] x, int off, byte[] out, int at) {
        float d = extreme(x, off) / -8f;
        float id = d != 0 ? 1f / d : 0f;
        putHalf(out, at, d);
        putNibbles(x, off, 0f, id, 8f, out, at + 2);
    }

    /** Q5_0: value = d * (q - 16) with q in 0..31; as Q4_0, the extreme maps exactly to q = 0. */
    private static void q5_0Block(float[] x, int off, byte[] out, int at) {
        float d = extreme(x, off) / -16f;
        float id = d != 0 ? 1f / d : 0f;
        putHalf(out, at, d);
        putFiveBits(x, off, 0f, id, 16f, out, at + 2);
    }

    /** Q4_1: value = d * q + m with q in 0..15, the block's range cut into 15 steps from its minimum. */
    private static void q4_1Block(float[] x, int off, byte[] out, int at) {
        putStepAndMin(x, off, 15, out, at);
        float d = getHalf(out, at);
        putNibbles(x, off, getHalf(out, at + 2), d != 0 ? 1f / d : 0f, 0f, out, at + 4);
    }

    /** Q5_1: value = d * q + m with q in 0..31, the block's range cut into 31 steps from its minimum. */
    private static void q5_1Block(float[] x, int off, byte[] out, int at) {
        putStepAndMin(x, off, 31, out, at);
        float d = getHalf(out, at);
        putFiveBits(x, off, getHalf(out, at + 2), d != 0 ? 1f / d : 0f, 0f, out, at + 4);
    }

    /** MXFP4's element values by nibble: the FP4 E2M1 values doubled, bit 3 the sign (ggml's kvalues_mxfp4). */
    private static final float[] MXFP4_VALUES = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

    /**
     * MXFP4 as ggml's reference quantizer writes it: the E8M0 byte e = floor(log2(max|x|)) - 2 + 127,
     * scale d = 2^(e - 128), so max|x| / d is in [8, 16) and values beyond 12 d clip to it; each
     * element the nibble whose value times d is nearest (in float arithmetic, the first of equals).
     * An all-zero block is zero bytes. floor(log2) is the float's exponent, exact where C's
     * {@code log2f} may round a value just below a power of two up; a block whose max is below
     * 2^-125 (which would give a negative e, undefined in ggml's cast) gets e = 0.
     */
    private static void mxfp4Block(float[] x, int off, byte[] out, int at) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            float a = Math.abs(x[off + j]);
            amax = a > amax ? a : amax;
        }
        int e = amax > 0 ? Math.max(0, Math.getExponent(amax) - 2 + 127) : 0;
        float d = Float.intBitsToFloat(e >= 2 ? (e - 1) << 23 : 0x00200000 << e);
        out[at] = (byte) e;
        for (int j = 0; j < 16; j++) {
            out[at + 1 + j] = (byte) (nearestMxfp4(x[off + j], d) | (nearestMxfp4(x[off + 16 + j], d) << 4));
        }
    }

    /** The nibble q minimizing |MXFP4_VALUES[q] * d - v|, the lowest q among equals. */
    private static int nearestMxfp4(float v, float d) {
        int best = 0;
        float bestErr = Math.abs(MXFP4_VALUES[0] * d - v);
        for (int q = 1; q < 16; q++) {
            float err = Math.abs(MXFP4_VALUES[q] * d - v);
            if (err < bestErr) {
                best = q;
                bestErr = err;
            }
        }
        return best;
    }

    /** The block's element of largest magnitude, with its sign. */
    private static float extreme(float[] x, int off) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[off + j];
            if (Math.abs(v) > amax) {
                amax = Math.abs(v);
                max = v;
            }
        }
        return max;
    }

    /**
     * Stores the f16 step d = (max − min) / top and offset m = min of an affine block. The callers
     * read both back and quantize against them: the rounded values are the ones a reader will use.
     */
    private static void putStepAndMin(float[] x, int off, int top, byte[] out, int at) {
        float min = x[off], max = x[off];
        for (int j = 1; j < 32; j++) {
            float v = x[off + j];
            min = v < min ? v : min;
            max = v > max ? v : max;
        }
        putHalf(out, at, (max - min) / top);
        putHalf(out, at + 2, min);
    }

    /** 16 bytes of levels q = (x − shift)·id + bias in 0..15: low nibbles elements 0..15, high 16..31. */
    private static void putNibbles(float[] x, int off, float shift, float id, float bias, byte[] out, int at) {
        for (int j = 0; j < 16; j++) {
            int lo = level((x[off + j] - shift) * id + bias, 15);
            int hi = level((x[off + 16 + j] - shift) * id + bias, 15);
            out[at + j] = (byte) (lo | (hi << 4));
        }
    }

    /**
     * Levels q = (x − shift)·id + bias in 0..31: their fifth bits as a little-endian uint32 at
     * {@code at} (bit e for element e), then the low four bits as 16 bytes of nibbles as Q4_0's.
     */
    private static void putFiveBits(float[] x, int off, float shift, float id, float bias, byte[] out, int at) {
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            int lo = level((x[off + j] - shift) * id + bias, 31);
            int hi = level((x[off + 16 + j] - shift) * id + bias, 31);
            out[at + 4 + j] = (byte) ((lo & 15) | ((hi & 15) << 4));
            qh |= ((lo >> 4) << j) | ((hi >> 4) << (16 + j));
        }
        for (int i = 0; i < 4; i++) out[at + i] = (byte) (qh >>> (8 * i));
    }

    static void putHalf(byte[] out, int at, float v) {
        short h = Float.floatToFloat16(v);
        out[at] = (byte) h;
        out[at + 1] = (byte) (h >> 8);
    }

    private static float getHalf(byte[] in, int at) {
        return Float.float16ToFloat((short) ((in[at] & 0xFF) | (in[at + 1] << 8)));
    }

    /** The nearest level to {@code scaled}, clamped to 0..top. */
    private static int level(float scaled, int top) {
        int q = nearestInt(scaled);
        return q < 0 ? 0 : q > top ? top : q;
    }

    /**
     * Round to nearest (ties to even) for |v| < 2^22: adding 1.5·2^23 leaves the integer in the
     * low mantissa bits. Several times faster than Math.round/rint, whose NaN and overflow rules
     * cost a branch per element; quantizer inputs are finite and scaled into a small range.
     */
    static int nearestInt(float v) {
        return Float.floatToRawIntBits(v + 12582912f) - 0x4B400000;
    }
}
