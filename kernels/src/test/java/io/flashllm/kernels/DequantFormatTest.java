package io.flashllm.kernels;

import io.flashllm.kernels.reference.ScalarReference;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.flashllm.kernels.TestTensors.SHORT_LE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Blocks built by hand from the format definitions (the writer side, independent of any reader),
 * with scales and quants chosen so every expected value is exact in float. Both the optimized
 * dequantization and the scalar reference must reproduce them bit for bit.
 */
class DequantFormatTest {

    private static void check(WeightTensor w, float[] expected) {
        int cols = w.cols();
        for (int r = 0; r < w.rows(); r++) {
            float[] fast = new float[cols];
            Dequant.row(w, r, fast, 0);
            float[] ref = ScalarReference.dequantizeRow(w, r);
            for (int col = 0; col < cols; col++) {
                int c = col;
                float e = expected[r * cols + c];
                if (e == 0f && fast[c] == 0f && ref[c] == 0f) continue; // -0.0 and 0.0 alike (d * (q - 16) vs fma)
                assertEquals(Float.floatToIntBits(e), Float.floatToIntBits(fast[c]),
                        () -> w.type() + " optimized at " + c + ": expected " + e + " got " + fast[c]);
                assertEquals(Float.floatToIntBits(e), Float.floatToIntBits(ref[c]),
                        () -> w.type() + " reference at " + c + ": expected " + e + " got " + ref[c]);
            }
        }
    }

    @Test
    void f16EveryBitPattern() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(2 * 65536);
            float[] expected = new float[65536];
            for (int h = 0; h < 65536; h++) {
                s.set(SHORT_LE, 2L * h, (short) h);
                expected[h] = Float.float16ToFloat((short) h);
            }
            // Spot values from the IEEE definition, so the oracle itself is pinned.
            assertEquals(1f, expected[0x3c00]);
            assertEquals(-2f, expected[0xc000]);
            assertEquals(0x1p-24f, expected[0x0001]);
            assertEquals(65504f, expected[0x7bff]);
            assertEquals(Float.POSITIVE_INFINITY, expected[0x7c00]);
            check(new WeightTensor("f16", GgmlType.F16, new long[]{256, 256}, s), expected);
            // Rows of whole 1024-column chunks and one 65536-column row: the buffered vcvtph2ps path.
            check(new WeightTensor("f16", GgmlType.F16, new long[]{1024, 64}, s), expected);
            check(new WeightTensor("f16", GgmlType.F16, new long[]{65536}, s), expected);
            // axpy with a = 1 into zeros is the conversion itself (NaN payloads aside).
            WeightTensor w = new WeightTensor("f16", GgmlType.F16, new long[]{1024, 64}, s);
            for (int r = 0; r < 64; r++) {
                float[] got = new float[1024];
                MatVec.axpy(w, r, 1f, got);
                for (int c = 0; c < 1024; c++) {
                    float e = expected[r * 1024 + c];
                    if (Float.isNaN(e)) {
                        assertTrue(Float.isNaN(got[c]), "f16 axpy NaN at " + (r * 1024 + c));
                    } else {
                        assertEquals(Float.floatToIntBits(e + 0f), Float.floatToIntBits(got[c]), "f16 axpy at " + (r * 1024 + c));
                    }
                }
            }
        }
    }

    @Test
    void bf16EveryBitPattern() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(2 * 65536);
            float[] expected = new float[65536];
            for (int h = 0; h < 65536; h++) {
                s.set(SHORT_LE, 2L * h, (short) h);
                expected[h] = Float.intBitsToFloat(h << 16);
            }
            assertEquals(1f, expected[0x3f80]);
            assertEquals(-3f, expected[0xc040]);
            check(new WeightTensor("bf16", GgmlType.BF16, new long[]{65536}, s), expected);
        }
    }

    @Test
    void f32RoundTrips() {
        try (Arena arena = Arena.ofConfined()) {
            float[] expected = {1f, -2.5f, 0f, -0f, Float.MIN_VALUE, 3e38f, 7f, 8f, 9f, 10f, 11f, 12f, 13f, 14f, 15f, 16f, 17f, 0.1f, -0.2f};
            MemorySegment s = arena.allocate(4L * expected.length);
            for (int i = 0; i < expected.length; i++) s.set(TestTensors.FLOAT_LE, 4L * i, expected[i]);
            check(new WeightTensor("f32", GgmlType.F32, new long[]{expected.length}, s), expected);
        }
    }

    @Test
    void q8_0() {
        int blocks = 3;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(34L * blocks);
            float[] expected = new float[32 * blocks];
            float[] d = {0.25f, -1.5f, 0.0078125f};
            for (int b = 0; b < blocks; b++) {
                s.set(SHORT_LE, 34L * b, Float.floatToFloat16(d[b]));
                for (int j = 0; j < 32; j++) {
                    int q = ((b * 32 + j) * 9) % 256 - 128; // covers -128..127
                    s.set(ValueLayout.JAVA_BYTE, 34L * b + 2 + j, (byte) q);
                    expected[b * 32 + j] = d[b] * q;
                }
            }
            check(new WeightTensor("q8", GgmlType.Q8_0, new long[]{32 * blocks}, s), expected);
        }
    }

    @Test
    void q4_0() {
        int blocks = 3;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(18L * blocks);
            float[] expected = new float[32 * blocks];
            float[] d = {2f, -0.5f, 0.125f};
            for (int b = 0; b < blocks; b++) {
                s.set(SHORT_LE, 18L * b, Float.floatToFloat16(d[b]));
                int[] q = new int[32];
                for (int j = 0; j < 32; j++) q[j] = (j * 5 + b) % 16;
                // byte i: element i in the low nibble, element i + 16 in the high nibble
                for (int i = 0; i < 16; i++) s.set(ValueLayout.JAVA_BYTE, 18L * b + 2 + i, (byte) (q[i] | (q[i + 16] << 4)));
                for (int j = 0; j < 32; j++) expected[b * 32 + j] = d[b] * (q[j] - 8);
            }
            check(new WeightTensor("q4", GgmlType.Q4_0, new long[]{32, blocks}, s), expected);
        }
    }

    @Test
    void q4_k() {
        int blocks = 2;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(144L * blocks);
            float[] expected = new float[256 * blocks];
            for (int b = 0; b < blocks; b++) {
                long bo = 144L * b;
                float d = b == 0 ? 0.5f : 0.03125f;
                float dmin = b == 0 ? 0.25f : 1.5f;
                int[] sc = b == 0 ? new int[]{1, 2, 3, 63, 17, 40, 33, 62} : new int[]{0, 63, 31, 32, 15, 16, 48, 1};
                int[] mn = b == 0 ? new int[]{0, 5, 9, 60, 16, 48, 31, 63} : new int[]{63, 0, 47, 1, 2, 61, 30, 17};
                s.set(SHORT_LE, bo, Float.floatToFloat16(d));
                s.set(SHORT_LE, bo + 2, Float.floatToFloat16(dmin));
                // 12 bytes: j < 4 -> scale j and min j in the low 6 bits of bytes j and j+4;
                // j >= 4 -> low 4 bits in byte j+4 (scale low nibble, min high nibble),
                // top 2 bits in the top bits of byte j-4 (scale) and byte j (min).
                byte[] packed = new byte[12];
                for (int j = 0; j < 4; j++) {
                    packed[j] = (byte) ((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
                    packed[j + 4] = (byte) ((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
                    packed[j + 8] = (byte) ((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
                }
                for (int i = 0; i < 12; i++) s.set(ValueLayout.JAVA_BYTE, bo + 4 + i, packed[i]);
                int[] q = new int[256];
                for (int e = 0; e < 256; e++) q[e] = (e * 7 + 3 + b) % 16;
                // 32 bytes per pair of sub-blocks: sub-block 2g in low nibbles, 2g+1 in high nibbles
                for (int g = 0; g < 4; g++) {
                    for (int l = 0; l < 32; l++) {
                        int lo = q[64 * g + l], hi = q[64 * g + 32 + l];
                        s.set(ValueLayout.JAVA_BYTE, bo + 16 + 32 * g + l, (byte) (lo | (hi << 4)));
                    }
                }
                for (int e = 0; e < 256; e++) {
                    int sub = e / 32;
                    expected[256 * b + e] = d * sc[sub] * q[e] - dmin * mn[sub];
                }
            }
            check(new WeightTensor("q4k", GgmlType.Q4_K, new long[]{256 * blocks}, s), expected);
        }
    }

    @Test
    void q6_k() {
        int blocks = 2;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(210L * blocks);
            float[] expected = new float[256 * blocks];
            for (int b = 0; b < blocks; b++) {
                long bo = 210L * b;
                float d = b == 0 ? 0.125f : -0.0625f;
                s.set(SHORT_LE, bo + 208, Float.floatToFloat16(d));
                int[] sc = new int[16];
                for (int i = 0; i < 16; i++) {
                    sc[i] = b == 0 ? (i * 13 % 41) - 20 : (i % 2 == 0 ? -128 : 127 - i);
                    s.set(ValueLayout.JAVA_BYTE, bo + 192 + i, (byte) sc[i]);
                }
                int[] q = new int[256];
                for (int e = 0; e < 256; e++) q[e] = (e * 11 + 5 + 3 * b) % 64;
                // Per half of 128: ql[l] holds elements l (low nibble) and l+64 (high), ql[l+32] holds
                // l+32 and l+96; qh[l] holds the top 2 bits of l, l+32, l+64, l+96 at bits 0, 2, 4, 6.
                for (int h = 0; h < 2; h++) {
                    for (int l = 0; l < 32; l++) {
                        int e = 128 * h + l;
                        int q0 = q[e], q1 = q[e + 32], q2 = q[e + 64], q3 = q[e + 96];
                        s.set(ValueLayout.JAVA_BYTE, bo + 64 * h + l, (byte) ((q0 & 15) | ((q2 & 15) << 4)));
                        s.set(ValueLayout.JAVA_BYTE, bo + 64 * h + 32 + l, (byte) ((q1 & 15) | ((q3 & 15) << 4)));
                        s.set(ValueLayout.JAVA_BYTE, bo + 128 + 32 * h + l,
                                (byte) ((q0 >> 4) | ((q1 >> 4) << 2) | ((q2 >> 4) << 4) | ((q3 >> 4) << 6)));
                    }
                }
                // one scale per 16 consecutive elements; values stored plus 32
                for (int e = 0; e < 256; e++) expected[256 * b + e] = d * sc[e / 16] * (q[e] - 32);
            }
            check(new WeightTensor("q6k", GgmlType.Q6_K, new long[]{256, blocks}, s), expected);
        }
    }

    /**
     * Q2_K: per 256 elements 16 bytes of scales (sub-block k of 16: scale in the low nibble of byte
     * k, min in the high), 64 bytes of 2-bit q, f16 d at 80, f16 dmin at 82; value = d·scale·q −
     * dmin·min. Byte l of each half's 32 holds elements l, l+32, l+64, l+96 of that half in bits
     * 0-1, 2-3, 4-5, 6-7. Every scale and min 0..15 and every q appear.
     */
    @Test
    void q2_k() {
        int blocks = 2;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(84L * blocks);
            float[] expected = new float[256 * blocks];
            for (int b = 0; b < blocks; b++) {
                long bo = 84L * b;
                float d = b == 0 ? 0.25f : 0.0078125f;
                float dmin = b == 0 ? 0.5f : 4f;
                int[] sc = new int[16], mn = new int[16];
                for (int k = 0; k < 16; k++) {
                    sc[k] = (k * 7 + b) % 16;
                    mn[k] = (15 - k + 3 * b) % 16;
                    s.set(ValueLayout.JAVA_BYTE, bo + k, (byte) (sc[k] | (mn[k] << 4)));
                }
                int[] q = new int[256];
                for (int e = 0; e < 256; e++) q[e] = (e * 5 + e / 7 + b) % 4;
                for (int h = 0; h < 2; h++) {
                    for (int l = 0; l < 32; l++) {
                        int e = 128 * h + l;
                        int v = q[e] | (q[e + 32] << 2) | (q[e + 64] << 4) | (q[e + 96] << 6);
                        s.set(ValueLayout.JAVA_BYTE, bo + 16 + 32 * h + l, (byte) v);
                    }
                }
                s.set(SHORT_LE, bo + 80, Float.floatToFloat16(d));
                s.set(SHORT_LE, bo + 82, Float.floatToFloat16(dmin));
                for (int e = 0; e < 256; e++) expected[256 * b + e] = d * sc[e / 16] * q[e] - dmin * mn[e / 16];
            }
            check(new WeightTensor("q2k", GgmlType.Q2_K, new long[]{256, blocks}, s), expected);
        }
    }

    /**
     * Q3_K: per 256 elements 32 bytes of high bits (bit r of byte l: element 32r + l), 64 bytes of
     * low 2-bit parts laid out as Q2_K's q, 12 bytes of 16 six-bit scales stored plus 32 (byte i:
     * low nibbles of scales i and i+8; byte 8+i: top 2 bits of scales i, i+4, i+8, i+12 at bits 0,
     * 2, 4, 6), f16 d at 108; value = d·(scale − 32)·(low + 4·high − 4). Scales −32..31 and every q.
     */
    @Test
    void q3_k() {
        int blocks = 2;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(110L * blocks);
            float[] expected = new float[256 * blocks];
            for (int b = 0; b < blocks; b++) {
                long bo = 110L * b;
                float d = b == 0 ? 0.125f : -0.015625f;
                int[] sc = new int[16];
                for (int k = 0; k < 16; k++) sc[k] = b == 0 ? k * 4 - 32 : 31 - k * 3; // stored sc + 32 in 0..63
                for (int i = 0; i < 8; i++) {
                    s.set(ValueLayout.JAVA_BYTE, bo + 96 + i, (byte) (((sc[i] + 32) & 15) | (((sc[i + 8] + 32) & 15) << 4)));
                }
                for (int i = 0; i < 4; i++) {
                    int top = 0;
                    for (int m = 0; m < 4; m++) top |= ((sc[i + 4 * m] + 32) >> 4) << (2 * m);
                    s.set(ValueLayout.JAVA_BYTE, bo + 104 + i, (byte) top);
                }
                int[] q = new int[256]; // 0..7: value (q - 4)
                for (int e = 0; e < 256; e++) q[e] = (e * 3 + e / 9 + 5 * b) % 8;
                for (int l = 0; l < 32; l++) {
                    int hm = 0;
                    for (int r = 0; r < 8; r++) hm |= (q[32 * r + l] >> 2) << r;
                    s.set(ValueLayout.JAVA_BYTE, bo + l, (byte) hm);
                }
                for (int h = 0; h < 2; h++) {
                    for (int l = 0; l < 32; l++) {
                        int e = 128 * h + l;
                        int v = (q[e] & 3) | ((q[e + 32] & 3) << 2) | ((q[e + 64] & 3) << 4) | ((q[e + 96] & 3) << 6);
                        s.set(ValueLayout.JAVA_BYTE, bo + 32 + 32 * h + l, (byte) v);
                    }
                }
                s.set(SHORT_LE, bo + 108, Float.floatToFloat16(d));
                for (int e = 0; e < 256; e++) expected[256 * b + e] = d * sc[e / 16] * (q[e] - 4);
            }
            check(new WeightTensor("q3k", GgmlType.Q3_K, new long[]{256, blocks}, s), expected);
        }
    }

    /** Q4_1 and Q5_1 (d, m[, fifth bits], nibbles; d * q + m) and Q5_0 (d, fifth bits, nibbles; d * (q - 16)). */
    @Test
    void q4_1_q5_0_q5_1() {
        for (GgmlType type : new GgmlType[]{GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1}) {
            int blocks = 3;
            boolean fifth = type != GgmlType.Q4_1, offset = type != GgmlType.Q5_0;
            int bytes = type.blockBytes;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = arena.allocate((long) bytes * blocks);
                float[] expected = new float[32 * blocks];
                float[] d = {2f, -0.5f, 0.125f};
                float[] m = {-3f, 0.75f, 0f};
                for (int b = 0; b < blocks; b++) {
                    long bo = (long) bytes * b;
                    s.set(SHORT_LE, bo, Float.floatToFloat16(d[b]));
                    if (offset) s.set(SHORT_LE, bo + 2, Float.floatToFloat16(m[b]));
                    int[] q = new int[32];
                    for (int j = 0; j < 32; j++) q[j] = (j * 11 + 7 * b) % (fifth ? 32 : 16);
                    int qh = 0;
                    for (int j = 0; j < 32; j++) qh |= (q[j] >> 4) << j; // bit j: element j's fifth bit
                    long qs = bo + (offset ? 4 : 2);
                    if (fifth) {
                        for (int i = 0; i < 4; i++) s.set(ValueLayout.JAVA_BYTE, qs + i, (byte) (qh >>> (8 * i)));
                        qs += 4;
                    }
                    for (int i = 0; i < 16; i++) {
                        s.set(ValueLayout.JAVA_BYTE, qs + i, (byte) ((q[i] & 15) | ((q[i + 16] & 15) << 4)));
                    }
                    for (int j = 0; j < 32; j++) {
                        expected[32 * b + j] = offset ? d[b] * q[j] + m[b] : d[b] * (q[j] - 16);
                    }
                }
                check(new WeightTensor("q", type, new long[]{32, blocks}, s), expected);
            }
        }
    }

    @Test
    void q5_k() {
        int blocks = 2;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(176L * blocks);
            float[] expected = new float[256 * blocks];
            for (int b = 0; b < blocks; b++) {
                long bo = 176L * b;
                float d = b == 0 ? 0.25f : 0.015625f;
                float dmin = b == 0 ? 0.5f : 2f;
                int[] sc = b == 0 ? new int[]{63, 1, 2, 40, 17, 3, 33, 62} : new int[]{0, 31, 63, 32, 16, 15, 1, 48};
                int[] mn = b == 0 ? new int[]{5, 0, 60, 9, 48, 16, 63, 31} : new int[]{1, 63, 0, 47, 61, 2, 17, 30};
                s.set(SHORT_LE, bo, Float.floatToFloat16(d));
                s.set(SHORT_LE, bo + 2, Float.floatToFloat16(dmin));
                for (int j = 0; j < 4; j++) { // packed as Q4_K's (see q4_k above)
                    s.set(ValueLayout.JAVA_BYTE, bo + 4 + j, (byte) ((sc[j] & 63) | ((sc[j + 4] >> 4) << 6)));
                    s.set(ValueLayout.JAVA_BYTE, bo + 8 + j, (byte) ((mn[j] & 63) | ((mn[j + 4] >> 4) << 6)));
                    s.set(ValueLayout.JAVA_BYTE, bo + 12 + j, (byte) ((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4)));
                }
                int[] q = new int[256];
                for (int e = 0; e < 256; e++) q[e] = (e * 13 + 5 + b) % 32;
                // 32 bytes of fifth bits: element 32k + l sets bit k of byte l; then nibbles as Q4_K
                for (int l = 0; l < 32; l++) {
                    int h = 0;
                    for (int k = 0; k < 8; k++) h |= (q[32 * k + l] >> 4) << k;
                    s.set(ValueLayout.JAVA_BYTE, bo + 16 + l, (byte) h);
                }
                for (int g = 0; g < 4; g++) {
                    for (int l = 0; l < 32; l++) {
                        int lo = q[64 * g + l] & 15, hi = q[64 * g + 32 + l] & 15;
                        s.set(ValueLayout.JAVA_BYTE, bo + 48 + 32 * g + l, (byte) (lo | (hi << 4)));
                    }
                }
                for (int e = 0; e < 256; e++) expected[256 * b + e] = d * sc[e / 32] * q[e] - dmin * mn[e / 32];
            }
            check(new WeightTensor("q5k", GgmlType.Q5_K, new long[]{256 * blocks}, s), expected);
        }
    }
    /**
     * MXFP4: per 32 elements an E8M0 byte e, then 16 bytes whose low nibbles are elements 0..15 and
     * high nibbles 16..31; value = v[q] * 2^(e - 128), v = the FP4 E2M1 values doubled. Every nibble in
     * both halves of every block, and the exponents at the edges: 0 and 1 (subnormal scales), 2 (the
     * smallest normal), 127 (a half), 128 (one), 254 (large values overflow to infinity as the float
     * product does) and 255. Expected values are from {@link Math#scalb}, not from any decoder.
     */
    @Test
    void mxfp4() {
        int[] exps = {0, 1, 2, 127, 128, 254, 255, 120};
        float[] v = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12}; // q = 8: a second zero
        int blocks = exps.length;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(17L * blocks);
            float[] expected = new float[32 * blocks];
            for (int b = 0; b < blocks; b++) {
                long bo = 17L * b;
                s.set(ValueLayout.JAVA_BYTE, bo, (byte) exps[b]);
                int[] q = new int[32];
                for (int j = 0; j < 32; j++) q[j] = (j * 7 + 3 * b) % 16; // each half: all 16 nibbles
                for (int i = 0; i < 16; i++) s.set(ValueLayout.JAVA_BYTE, bo + 1 + i, (byte) (q[i] | (q[i + 16] << 4)));
                for (int j = 0; j < 32; j++) expected[32 * b + j] = Math.scalb(v[q[j]], exps[b] - 128);
            }
            // Spot values worked out by hand, so the expectations themselves are pinned.
            assertEquals(Float.intBitsToFloat(0x01400000), expected[1]); // e = 0, q = 7: 12 * 2^-128 = 1.5 * 2^-125
            assertEquals(Float.intBitsToFloat(0x00400000), expected[32 + 2]); // e = 1, q = 1: 2^-127, subnormal
            assertEquals(Float.intBitsToFloat(0x01C00000), expected[32 + 12]); // e = 1, q = 7: 12 * 2^-127
            assertEquals(Float.MIN_NORMAL, expected[2 * 32 + 13]); // e = 2, q = 1: 2^-126
            assertEquals(-0.5f, expected[3 * 32]); // e = 127, q = 9: -1 / 2
            assertEquals(-4f, expected[4 * 32]); // e = 128, q = 12: -4
            assertEquals(Float.POSITIVE_INFINITY, expected[5 * 32 + 8]); // e = 254, q = 7: 12 * 2^126 overflows
            assertEquals(0x1p127f, expected[6 * 32 + 9]); // e = 255, q = 1: 2^127
            assertEquals(Float.NEGATIVE_INFINITY, expected[6 * 32 + 15]); // e = 255, q = 11: -3 * 2^127
            check(new WeightTensor("mxfp4", GgmlType.MXFP4, new long[]{32, blocks}, s), expected);
            check(new WeightTensor("mxfp4", GgmlType.MXFP4, new long[]{32 * blocks}, s), expected);
        }
    }
    /** The IQ4 grid as ggml's kvalues_iq4nl lists it, written here independently of the kernels' copy. */
    private static final int[] IQ4_GRID = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /**
     * IQ4_NL: per 32 elements an f16 d, then 16 bytes whose low nibbles are elements 0..15 and high
     * nibbles 16..31; value = d * grid[q]. Every nibble in both halves of every block.
     */
    @Test
    void iq4_nl() {
        float[] ds = {1f, -0.25f, 0.0078125f};
        int blocks = ds.length;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(18L * blocks);
            float[] expected = new float[32 * blocks];
            for (int b = 0; b < blocks; b++) {
                long bo = 18L * b;
                s.set(SHORT_LE, bo, Float.floatToFloat16(ds[b]));
                int[] q = new int[32];
                for (int j = 0; j < 32; j++) q[j] = (j * 5 + 7 * b) % 16;
                for (int i = 0; i < 16; i++) s.set(ValueLayout.JAVA_BYTE, bo + 2 + i, (byte) (q[i] | (q[i + 16] << 4)));
                for (int j = 0; j < 32; j++) expected[32 * b + j] = ds[b] * IQ4_GRID[q[j]];
            }
            assertEquals(-127f, expected[0]); // d = 1, q = 0
            assertEquals(-13.25f, expected[32 + 1]); // d = -1/4, q = (5 + 7) % 16 = 12: grid value 53
            check(new WeightTensor("iq4nl", GgmlType.IQ4_NL, new long[]{32, blocks}, s), expected);
            check(new WeightTensor("iq4nl", GgmlType.IQ4_NL, new long[]{32 * blocks}, s), expected);
        }
    }

    /**
     * IQ4_XS: per 256 elements an f16 d, a 16-bit word whose bits 2k..2k+1 are the top bits of
     * sub-block k's 6-bit scale, 4 bytes of the scales' low nibbles (sub-block k in the low nibble of
     * byte k / 2 for even k, the high for odd), then eight runs of 16 bytes, run k holding sub-block
     * k's 32 elements as IQ4_NL's nibbles; value = d * (scale - 32) * grid[q]. Scales at both ends
     * of -32..31 and every nibble.
     */
    @Test
    void iq4_xs() {
        int blocks = 2;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(136L * blocks);
            float[] expected = new float[256 * blocks];
            for (int b = 0; b < blocks; b++) {
                long bo = 136L * b;
                float d = b == 0 ? 0.5f : -0.0625f;
                int[] sc = b == 0 ? new int[]{-32, 31, 0, 1, -1, 17, -20, 5} : new int[]{7, -9, 31, -32, 12, -3, 30, -31};
                int top = 0;
                for (int k = 0; k < 8; k++) top |= ((sc[k] + 32) >> 4) << (2 * k);
                s.set(SHORT_LE, bo, Float.floatToFloat16(d));
                s.set(SHORT_LE, bo + 2, (short) top);
                for (int i = 0; i < 4; i++) {
                    s.set(ValueLayout.JAVA_BYTE, bo + 4 + i, (byte) (((sc[2 * i] + 32) & 15) | (((sc[2 * i + 1] + 32) & 15) << 4)));
                }
                int[] q = new int[256];
                for (int e = 0; e < 256; e++) q[e] = (e * 3 + e / 16 + b) % 16;
                for (int k = 0; k < 8; k++) {
                    for (int i = 0; i < 16; i++) {
                        s.set(ValueLayout.JAVA_BYTE, bo + 8 + 16 * k + i, (byte) (q[32 * k + i] | (q[32 * k + 16 + i] << 4)));
                    }
                }
                for (int e = 0; e < 256; e++) expected[256 * b + e] = d * sc[e / 32] * IQ4_GRID[q[e]];
            }
            assertEquals(2032f, expected[0]); // d = 1/2, scale -32 (stored 0), q = 0: grid value -127
            assertEquals(-0.0625f * -31 * 69, expected[511]); // last sub-block, scale -31, q = (765 + 15 + 1) % 16 = 13
            check(new WeightTensor("iq4xs", GgmlType.IQ4_XS, new long[]{256, blocks}, s), expected);
        }
    }
}
