package io.flashllm.kernels.reference;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Plain scalar kernels, written straight from the format definitions. They are the oracle the
 * optimized kernels are tested against and the reference forward passes in tests use; they are
 * never on the hot path.
 */
public final class ScalarReference {
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private ScalarReference() {}

    public static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(SHORT_LE, off));
    }

    /** Dequantizes {@code n} elements starting at element {@code first} (a block boundary for quantized types). */
    public static void dequantize(GgmlType type, MemorySegment s, long first, float[] out, int outOff, int n) {
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) out[outOff + i] = s.get(FLOAT_LE, (first + i) * 4);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) out[outOff + i] = f16(s, (first + i) * 2);
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    int bits = (s.get(SHORT_LE, (first + i) * 2) & 0xffff) << 16;
                    out[outOff + i] = Float.intBitsToFloat(bits);
                }
            }
            case Q8_0 -> {
                for (int i = 0; i < n; i++) {
                    long e = first + i;
                    long block = (e / 32) * 34;
                    float d = f16(s, block);
                    out[outOff + i] = d * s.get(ValueLayout.JAVA_BYTE, block + 2 + e % 32);
                }
            }
            case Q4_0 -> {
                for (int i = 0; i < n; i++) {
                    long e = first + i;
                    long block = (e / 32) * 18;
                    int j = (int) (e % 32);
                    float d = f16(s, block);
                    int b = s.get(ValueLayout.JAVA_BYTE, block + 2 + (j & 15)) & 0xff;
                    int q = j < 16 ? (b & 15) : (b >>> 4);
                    out[outOff + i] = d * (q - 8);
                }
            }
            default -> throw new UnsupportedOperationException("scalar dequantize of " + type + " not written yet");
        }
    }

    public static float[] dequantizeRow(WeightTensor w, int row) {
        float[] out = new float[w.cols()];
        dequantize(w.type(), w.data(), (long) row * w.cols(), out, 0, w.cols());
        return out;
    }

    /** out[r] = sum_c W[r][c] * x[c], one dequantized row at a time. */
    public static void matvec(WeightTensor w, float[] x, float[] out) {
        int rows = w.rows();
        for (int r = 0; r < rows; r++) {
            float[] row = dequantizeRow(w, r);
            double sum = 0;
            for (int c = 0; c < row.length; c++) sum += (double) row[c] * x[c];
            out[r] = (float) sum;
        }
    }
}
