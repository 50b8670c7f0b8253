package io.flashllm.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Encodes a float row into a stored type: the converter's down columns of a flash bundle, and a KV
 * cache's keys and values. F32/F16/BF16 round-trip the values of a source of the same type exactly;
 * Q8_0 follows ggml's reference quantizer (scale = max|x|/127 per 32 elements, round half away from
 * zero, scale stored as F16), so that a Q8_0 row reads back as llama.cpp would have written it.
 */
public final class RowEncoder {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private RowEncoder() {}

    /** The types {@link #encode} writes. */
    public static boolean supports(GgmlType t) {
        return t == GgmlType.F32 || t == GgmlType.F16 || t == GgmlType.BF16 || t == GgmlType.Q8_0;
    }

    /** Writes {@code x[off .. off+n)} as {@code type} at {@code dst[dstOff..]}; Q8_0 needs n a multiple of 32. */
    public static void encode(GgmlType type, float[] x, int off, int n, MemorySegment dst, long dstOff) {
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) dst.set(FLOAT_LE, dstOff + 4L * i, x[off + i]);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) dst.set(SHORT_LE, dstOff + 2L * i, Float.floatToFloat16(x[off + i]));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) dst.set(SHORT_LE, dstOff + 2L * i, toBf16(x[off + i]));
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    float amax = 0;
                    for (int i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[off + 32 * b + i]));
                    float d = amax / 127f;
                    float id = d != 0 ? 1f / d : 0f;
                    long blk = dstOff + 34L * b;
                    dst.set(SHORT_LE, blk, Float.floatToFloat16(d));
                    for (int i = 0; i < 32; i++) {
                        float v = x[off + 32 * b + i] * id;
                        dst.set(ValueLayout.JAVA_BYTE, blk + 2 + i, (byte) (v < 0 ? -Math.round(-v) : Math.round(v)));
                    }
                }
            }
            default -> throw new IllegalArgumentException("cannot store rows as " + type);
        }
    }

    /** Round to nearest even, keeping NaN a NaN. */
    public static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
