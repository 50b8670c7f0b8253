package io.flashllm.predictor.math;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.reference.ScalarReference;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Dequantizes one row of a weight tensor into a float buffer. Training and the bulk mask
 * computation dequantize each row once and reuse it against many vectors, so the row decode only
 * needs to be reasonably quick; the common types get block-wise loops, the rest go through the
 * scalar reference.
 */
public final class Rows {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Rows() {}

    /** out[off..off+cols) = W[row]. */
    public static void dequantize(WeightTensor w, int row, float[] out, int off) {
        MemorySegment s = w.data();
        int n = w.cols();
        long base = row * w.rowBytes();
        GgmlType t = w.type();
        switch (t) {
            case F32 -> MemorySegment.copy(s, FLOAT_LE, base, out, off, n);
            case F16 -> {
                for (int i = 0; i < n; i++) out[off + i] = Float.float16ToFloat(s.get(SHORT_LE, base + 2L * i));
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long blk = base + 34L * b;
                    float d = Float.float16ToFloat(s.get(SHORT_LE, blk));
                    int o = off + 32 * b;
                    for (int i = 0; i < 32; i++) out[o + i] = d * s.get(ValueLayout.JAVA_BYTE, blk + 2 + i);
                }
            }
            default -> ScalarReference.dequantize(t, s, (long) row * n, out, off, n);
        }
    }
}
