package io.flashllm.flashstore.writer;

import io.flashllm.kernels.GgmlType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Encodes F32 values into the tensor encodings flashllm writes: F32, F16, BF16, Q8_0, Q4_0, Q4_K
 * and Q6_K, in ggml's block layouts (see {@link GgmlType}). Quantizers are deterministic: the same
 * input always gives the same bytes, so synthesized model files are reproducible.
 */
public final class Quantizer {
    private Quantizer() {}

    public static boolean supports(GgmlType type) {
        return switch (type) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K -> true;
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
                short[] h = new short[n];
                for (int i = 0; i < n; i++) h[i] = Float.floatToFloat16(src[off + i]);
                dst.asShortBuffer().put(h);
                dst.position(dst.position() + 2 * n);
            }
            case BF16 -> {
                short[] h = new short[n];
                for (int i = 0; i < n; i++) h[i] = toBf16(src[off + i]);
                dst.asShortBuffer().put(h);
                dst.position(dst.position() + 2 * n);
            }
            case Q8_0 -> {
                byte[] q = new byte[32];
                for (int b = 0; b < n; b += 32) q8_0Block(src, off + b, dst, q);
            }
            case Q4_0 -> {
                byte[] q = new byte[16];
                for (int b = 0; b < n; b += 32) q4_0Block(src, off + b, dst, q);
            }
            case Q4_K -> KQuants.q4K(src, off, n, dst);
            case Q6_K -> KQuants.q6K(src, off, n, dst);
        }
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
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** f32 → f16 → f32, the value a reader will see for a stored scale. */
    static float f16Round(float f) {
        return Float.float16ToFloat(Float.floatToFloat16(f));
    }

    /** Q8_0: d = max|x| / 127 stored as f16, then 32 signed bytes round(x / d) (halves away from zero). */
    private static void q8_0Block(float[] x, int off, ByteBuffer dst, byte[] q) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            float a = Math.abs(x[off + j]);
            amax = a > amax ? a : amax; // not Math.max: its NaN/-0 rules cost a branch per element
        }
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        dst.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) {
            float v = x[off + j] * id;
            // round half away from zero; |v| <= 127 by construction, so no clamp is needed
            q[j] = (byte) (int) (v + (v >= 0 ? 0.5f : -0.5f));
        }
        dst.put(q);
    }

    /**
     * Q4_0: value = d * (q - 8) with q in 0..15. The element of largest magnitude maps exactly to
     * q = 0 (d = max / -8), which spends the asymmetric range on the side that needs it.
     * Low nibbles hold elements 0..15, high nibbles 16..31.
     */
    private static void q4_0Block(float[] x, int off, ByteBuffer dst, byte[] q) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[off + j];
            if (Math.abs(v) > amax) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8f;
        float id = d != 0 ? 1f / d : 0f;
        dst.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int lo = nibble(x[off + j] * id);
            int hi = nibble(x[off + 16 + j] * id);
            q[j] = (byte) (lo | (hi << 4));
        }
        dst.put(q);
    }

    private static int nibble(float scaled) {
        int q = (int) Math.floor(scaled + 8.5f);
        return Math.max(0, Math.min(15, q));
    }
}
