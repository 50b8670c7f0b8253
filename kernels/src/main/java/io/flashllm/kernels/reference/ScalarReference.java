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
        // One small method per type. As one method holding every format, C2 sometimes left its segment
        // reads uninlined (a layout check per byte) and tests ran the reference 5x slower all process long.
        switch (type) {
            case F32 -> f32(s, first, out, outOff, n);
            case F16 -> float16(s, first, out, outOff, n);
            case BF16 -> bfloat16(s, first, out, outOff, n);
            case Q8_0 -> q8_0(s, first, out, outOff, n);
            case Q4_0 -> q4_0(s, first, out, outOff, n);
            case Q4_1, Q5_0, Q5_1 -> q4_1OrQ5(type, s, first, out, outOff, n);
            case Q5_K -> q5K(s, first, out, outOff, n);
            case Q2_K -> q2K(s, first, out, outOff, n);
            case Q3_K -> q3K(s, first, out, outOff, n);
            case Q4_K -> q4K(s, first, out, outOff, n);
            case MXFP4 -> mxfp4(s, first, out, outOff, n);
            case IQ4_NL -> iq4nl(s, first, out, outOff, n);
            case IQ4_XS -> iq4xs(s, first, out, outOff, n);
            case Q6_K -> q6K(s, first, out, outOff, n);
        }
    }

    private static void f32(MemorySegment s, long first, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = s.get(FLOAT_LE, (first + i) * 4);
    }

    private static void float16(MemorySegment s, long first, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = f16(s, (first + i) * 2);
    }

    private static void bfloat16(MemorySegment s, long first, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            int bits = (s.get(SHORT_LE, (first + i) * 2) & 0xffff) << 16;
            out[outOff + i] = Float.intBitsToFloat(bits);
        }
    }

    private static void q8_0(MemorySegment s, long first, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            long e = first + i;
            long block = (e / 32) * 34;
            float d = f16(s, block);
            out[outOff + i] = d * s.get(ValueLayout.JAVA_BYTE, block + 2 + e % 32);
        }
    }

    private static void q4_0(MemorySegment s, long first, float[] out, int outOff, int n) {
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

    private static void q4_1OrQ5(GgmlType type, MemorySegment s, long first, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            long e = first + i;
            long block = (e / 32) * type.blockBytes;
            int j = (int) (e % 32);
            boolean offset = type != GgmlType.Q5_0; // Q4_1 and Q5_1 store m after d
            long qs = block + (offset ? 4 : 2) + (type == GgmlType.Q4_1 ? 0 : 4);
            int b = s.get(ValueLayout.JAVA_BYTE, qs + (j & 15)) & 0xff;
            int q = j < 16 ? (b & 15) : (b >>> 4);
            if (type != GgmlType.Q4_1) {
                long qh = block + (offset ? 4 : 2);
                int fifth = (s.get(ValueLayout.JAVA_BYTE, qh + j / 8) >>> (j % 8)) & 1;
                q |= fifth << 4;
            }
            float d = f16(s, block);
            out[outOff + i] = offset ? d * q + f16(s, block + 2) : d * (q - 16);
        }
    }

    private static void q5K(MemorySegment s, long first, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            long e = first + i;
            long block = (e / 256) * 176;
            int j = (int) (e % 256);
            int sub = j / 32;
            int l = j % 32;
            int b = s.get(ValueLayout.JAVA_BYTE, block + 48 + (sub / 2) * 32 + l) & 0xff;
            int q = (sub & 1) == 0 ? (b & 15) : (b >>> 4);
            q |= ((s.get(ValueLayout.JAVA_BYTE, block + 16 + l) >>> sub) & 1) << 4;
            float d = f16(s, block);
            float dmin = f16(s, block + 2);
            out[outOff + i] = d * q4kScale(s, block + 4, sub) * q - dmin * q4kMin(s, block + 4, sub);
        }
    }

    private static void q2K(MemorySegment s, long first, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            long e = first + i;
            long block = (e / 256) * 84;
            int j = (int) (e % 256);
            int shift = 2 * ((j % 128) / 32);
            int q = ((s.get(ValueLayout.JAVA_BYTE, block + 16 + 32 * (j / 128) + j % 32) & 0xff) >>> shift) & 3;
            int sc = s.get(ValueLayout.JAVA_BYTE, block + j / 16) & 0xff; // scale low nibble, min high
            out[outOff + i] = f16(s, block + 80) * (sc & 15) * q - f16(s, block + 82) * (sc >>> 4);
        }
    }

    private static void q3K(MemorySegment s, long first, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            long e = first + i;
            long block = (e / 256) * 110;
            int j = (int) (e % 256);
            int half = j / 128, pair = (j % 128) / 32, l = j % 32;
            int low = ((s.get(ValueLayout.JAVA_BYTE, block + 32 + 32 * half + l) & 0xff) >>> (2 * pair)) & 3;
            int high = ((s.get(ValueLayout.JAVA_BYTE, block + l) & 0xff) >>> (4 * half + pair)) & 1;
            int k = j / 16;
            int scLow = ((s.get(ValueLayout.JAVA_BYTE, block + 96 + k % 8) & 0xff) >>> (4 * (k / 8))) & 15;
            int scHigh = ((s.get(ValueLayout.JAVA_BYTE, block + 104 + k % 4) & 0xff) >>> (2 * (k / 4))) & 3;
            int scale = (scLow | (scHigh << 4)) - 32;
            out[outOff + i] = f16(s, block + 108) * scale * (low + 4 * high - 4);
        }
    }

    private static void q4K(MemorySegment s, long first, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            long e = first + i;
            long block = (e / 256) * 144;
            int j = (int) (e % 256);
            int sub = j / 32;            // 8 sub-blocks of 32 elements
            int pair = sub / 2;          // each 32 bytes of qs hold two sub-blocks: low then high nibbles
            int b = s.get(ValueLayout.JAVA_BYTE, block + 16 + pair * 32 + (j % 32)) & 0xff;
            int q = (sub & 1) == 0 ? (b & 15) : (b >>> 4);
            float d = f16(s, block);
            float dmin = f16(s, block + 2);
            out[outOff + i] = d * q4kScale(s, block + 4, sub) * q - dmin * q4kMin(s, block + 4, sub);
        }
    }

    private static void mxfp4(MemorySegment s, long first, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            long e = first + i;
            long block = (e / 32) * 17;
            int j = (int) (e % 32);
            int b = s.get(ValueLayout.JAVA_BYTE, block + 1 + (j & 15)) & 0xff;
            int q = j < 16 ? (b & 15) : (b >>> 4);
            out[outOff + i] = MXFP4_VALUES[q] * e8m0Half(s.get(ValueLayout.JAVA_BYTE, block) & 0xff);
        }
    }

    private static void iq4nl(MemorySegment s, long first, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            long e = first + i;
            long block = (e / 32) * 18;
            int j = (int) (e % 32);
            int b = s.get(ValueLayout.JAVA_BYTE, block + 2 + (j & 15)) & 0xff;
            int q = j < 16 ? (b & 15) : (b >>> 4);
            out[outOff + i] = f16(s, block) * IQ4_VALUES[q];
        }
    }

    private static void iq4xs(MemorySegment s, long first, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            long e = first + i;
            long block = (e / 256) * 136;
            int j = (int) (e % 256);
            int k = j / 32, l = j % 32;
            int low = ((s.get(ValueLayout.JAVA_BYTE, block + 4 + k / 2) & 0xff) >>> (4 * (k % 2))) & 15;
            int top = ((s.get(SHORT_LE, block + 2) & 0xffff) >>> (2 * k)) & 3;
            float dl = f16(s, block) * ((low | (top << 4)) - 32);
            int b = s.get(ValueLayout.JAVA_BYTE, block + 8 + 16 * k + (l & 15)) & 0xff;
            int q = l < 16 ? (b & 15) : (b >>> 4);
            out[outOff + i] = dl * IQ4_VALUES[q];
        }
    }

    private static void q6K(MemorySegment s, long first, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            long e = first + i;
            long block = (e / 256) * 210;
            int j = (int) (e % 256);
            int half = j / 128;          // two halves of 128 elements
            int k = j % 128;
            int quarter = k / 32;        // which 2-bit field of qh and which nibble of ql
            int l = k % 32;
            long ql = block + half * 64 + (quarter & 1) * 32 + l;
            long qh = block + 128 + half * 32 + l;
            int lowByte = s.get(ValueLayout.JAVA_BYTE, ql) & 0xff;
            int low = quarter < 2 ? (lowByte & 15) : (lowByte >>> 4);
            int high = ((s.get(ValueLayout.JAVA_BYTE, qh) & 0xff) >>> (2 * quarter)) & 3;
            int q = (low | (high << 4)) - 32;
            int scale = s.get(ValueLayout.JAVA_BYTE, block + 192 + half * 8 + quarter * 2 + l / 16);
            float d = f16(s, block + 208);
            out[outOff + i] = d * scale * q;
        }
    }

    /** IQ4_NL's and IQ4_XS's element values by nibble: a non-linear grid, denser near zero. */
    private static final float[] IQ4_VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /** MXFP4's element values by nibble: the FP4 E2M1 values (sign bit 3) doubled. */
    private static final float[] MXFP4_VALUES = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

    /**
     * MXFP4's block scale from its E8M0 byte {@code e}: 2^(e - 127) halved, i.e. 2^(e - 128), as
     * float bits: exponent field e - 1 for e >= 2, the subnormals 2^-127 (e = 1) and 2^-128 (e = 0).
     */
    private static float e8m0Half(int e) {
        int bits = e >= 2 ? (e - 1) << 23 : e == 1 ? 0x00400000 : 0x00200000;
        return Float.intBitsToFloat(bits);
    }

    /**
     * The 6-bit scale of Q4_K sub-block {@code sub} (0..7) from the 12 packed bytes at {@code off}:
     * bytes 0..3 hold scales 0..3 in their low 6 bits, bytes 4..7 mins 0..3; bytes 8..11 hold the low
     * 4 bits of scale (low nibble) and min (high nibble) 4..7, whose top 2 bits sit in the spare top
     * bits of bytes 0..3 (scales) and 4..7 (mins).
     */
    public static int q4kScale(MemorySegment s, long off, int sub) {
        if (sub < 4) return s.get(ValueLayout.JAVA_BYTE, off + sub) & 63;
        int lo = s.get(ValueLayout.JAVA_BYTE, off + sub + 4) & 15;
        int hi = (s.get(ValueLayout.JAVA_BYTE, off + sub - 4) & 0xff) >>> 6;
        return lo | (hi << 4);
    }

    /** The 6-bit min of Q4_K sub-block {@code sub}; see {@link #q4kScale}. */
    public static int q4kMin(MemorySegment s, long off, int sub) {
        if (sub < 4) return s.get(ValueLayout.JAVA_BYTE, off + sub + 4) & 63;
        int lo = (s.get(ValueLayout.JAVA_BYTE, off + sub + 4) & 0xff) >>> 4;
        int hi = (s.get(ValueLayout.JAVA_BYTE, off + sub) & 0xff) >>> 6;
        return lo | (hi << 4);
    }

    public static float[] dequantizeRow(WeightTensor w, int row) {
        float[] out = new float[w.cols()];
        dequantize(w.type(), w.data(), (long) row * w.cols(), out, 0, w.cols());
        return out;
    }

    /** W[row] . x[xOff ..], accumulated in double. */
    public static float dot(WeightTensor w, int row, float[] x, int xOff) {
        float[] r = dequantizeRow(w, row);
        double sum = 0;
        for (int c = 0; c < r.length; c++) sum += (double) r[c] * x[xOff + c];
        return (float) sum;
    }

    /** out[c] += a * W[row][c]. */
    public static void axpy(WeightTensor w, int row, float a, float[] out) {
        float[] r = dequantizeRow(w, row);
        for (int c = 0; c < r.length; c++) out[c] += a * r[c];
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
