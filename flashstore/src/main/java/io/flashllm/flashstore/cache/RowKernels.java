package io.flashllm.flashstore.cache;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Row dot product and axpy over one row of a weight tensor, straight from the segment without
 * allocating. These are the FFN's inner operations over cache rows; they stay simple scalar loops
 * here and are the place to route to the kernels module's vectorized versions.
 */
public final class RowKernels {
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private RowKernels() {}

    public static boolean supports(GgmlType t) {
        return t == GgmlType.F32 || t == GgmlType.F16 || t == GgmlType.BF16 || t == GgmlType.Q8_0 || t == GgmlType.Q4_0;
    }

    /** W[row] · x[xOff ..]. */
    public static float dot(WeightTensor w, int row, float[] x, int xOff) {
        MemorySegment s = w.data();
        int n = w.cols();
        long base = row * w.rowBytes();
        float sum = 0;
        switch (w.type()) {
            case F32 -> {
                for (int i = 0; i < n; i++) sum += s.get(FLOAT_LE, base + 4L * i) * x[xOff + i];
            }
            case F16 -> {
                for (int i = 0; i < n; i++) sum += Float.float16ToFloat(s.get(SHORT_LE, base + 2L * i)) * x[xOff + i];
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    sum += Float.intBitsToFloat((s.get(SHORT_LE, base + 2L * i) & 0xffff) << 16) * x[xOff + i];
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long blk = base + 34L * b;
                    float d = Float.float16ToFloat(s.get(SHORT_LE, blk));
                    float acc = 0;
                    int xo = xOff + 32 * b;
                    for (int i = 0; i < 32; i++) acc += s.get(ValueLayout.JAVA_BYTE, blk + 2 + i) * x[xo + i];
                    sum += d * acc;
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long blk = base + 18L * b;
                    float d = Float.float16ToFloat(s.get(SHORT_LE, blk));
                    float acc = 0;
                    int xo = xOff + 32 * b;
                    for (int i = 0; i < 16; i++) {
                        int q = s.get(ValueLayout.JAVA_BYTE, blk + 2 + i) & 0xff;
                        acc += ((q & 15) - 8) * x[xo + i] + ((q >>> 4) - 8) * x[xo + 16 + i];
                    }
                    sum += d * acc;
                }
            }
            default -> throw new UnsupportedOperationException("row dot over " + w.type() + " is not supported");
        }
        return sum;
    }

    /** out[outOff ..] += a · W[row]. */
    public static void axpy(WeightTensor w, int row, float a, float[] out, int outOff) {
        MemorySegment s = w.data();
        int n = w.cols();
        long base = row * w.rowBytes();
        switch (w.type()) {
            case F32 -> {
                for (int i = 0; i < n; i++) out[outOff + i] += a * s.get(FLOAT_LE, base + 4L * i);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) out[outOff + i] += a * Float.float16ToFloat(s.get(SHORT_LE, base + 2L * i));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[outOff + i] += a * Float.intBitsToFloat((s.get(SHORT_LE, base + 2L * i) & 0xffff) << 16);
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long blk = base + 34L * b;
                    float ad = a * Float.float16ToFloat(s.get(SHORT_LE, blk));
                    int o = outOff + 32 * b;
                    for (int i = 0; i < 32; i++) out[o + i] += ad * s.get(ValueLayout.JAVA_BYTE, blk + 2 + i);
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long blk = base + 18L * b;
                    float ad = a * Float.float16ToFloat(s.get(SHORT_LE, blk));
                    int o = outOff + 32 * b;
                    for (int i = 0; i < 16; i++) {
                        int q = s.get(ValueLayout.JAVA_BYTE, blk + 2 + i) & 0xff;
                        out[o + i] += ad * ((q & 15) - 8);
                        out[o + 16 + i] += ad * ((q >>> 4) - 8);
                    }
                }
            }
            default -> throw new UnsupportedOperationException("row axpy over " + w.type() + " is not supported");
        }
    }
}
