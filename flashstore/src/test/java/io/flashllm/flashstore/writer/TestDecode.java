package io.flashllm.flashstore.writer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Test-side decoders written from the block definitions, independent of the quantizers, so a
 * layout mistake in the writer cannot be mirrored by the check.
 */
final class TestDecode {
    private TestDecode() {}

    /** ggml's kvalues_iq4nl, the IQ4 formats' grid. */
    private static final int[] IQ4_GRID = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    static float half(ByteBuffer b, int at) {
        return Float.float16ToFloat(b.getShort(at));
    }

    static float[] decode(io.flashllm.kernels.GgmlType type, byte[] bytes, int n) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[n];
        switch (type) {
            case F32 -> { for (int i = 0; i < n; i++) out[i] = b.getFloat(4 * i); }
            case F16 -> { for (int i = 0; i < n; i++) out[i] = half(b, 2 * i); }
            case BF16 -> { for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((b.getShort(2 * i) & 0xFFFF) << 16); }
            case Q8_0 -> {
                for (int blk = 0; blk < n / 32; blk++) {
                    int at = blk * 34;
                    float d = half(b, at);
                    for (int j = 0; j < 32; j++) out[blk * 32 + j] = d * b.get(at + 2 + j);
                }
            }
            case Q4_0 -> {
                for (int blk = 0; blk < n / 32; blk++) {
                    int at = blk * 18;
                    float d = half(b, at);
                    for (int j = 0; j < 16; j++) {
                        int v = b.get(at + 2 + j) & 0xFF;
                        out[blk * 32 + j] = d * ((v & 0xF) - 8);
                        out[blk * 32 + 16 + j] = d * ((v >> 4) - 8);
                    }
                }
            }
            case Q4_1 -> {
                for (int blk = 0; blk < n / 32; blk++) {
                    int at = blk * 20;
                    float d = half(b, at), m = half(b, at + 2);
                    for (int j = 0; j < 16; j++) {
                        int v = b.get(at + 4 + j) & 0xFF;
                        out[blk * 32 + j] = d * (v & 0xF) + m;
                        out[blk * 32 + 16 + j] = d * (v >> 4) + m;
                    }
                }
            }
            case Q5_0 -> {
                for (int blk = 0; blk < n / 32; blk++) {
                    int at = blk * 22;
                    float d = half(b, at);
                    for (int e = 0; e < 32; e++) out[blk * 32 + e] = d * (fiveBits(b, at + 2, e) - 16);
                }
            }
            case Q5_1 -> {
                for (int blk = 0; blk < n / 32; blk++) {
                    int at = blk * 24;
                    float d = half(b, at), m = half(b, at + 2);
                    for (int e = 0; e < 32; e++) out[blk * 32 + e] = d * fiveBits(b, at + 4, e) + m;
                }
            }
            case Q5_K -> {
                for (int blk = 0; blk < n / 256; blk++) {
                    int at = blk * 176;
                    float d = half(b, at), dmin = half(b, at + 2);
                    int[] sc = new int[8], mn = new int[8];
                    unpackScalesMins(b, at + 4, sc, mn);
                    for (int e = 0; e < 256; e++) {
                        int sub = e / 32, lane = e % 32;
                        int v = b.get(at + 48 + (sub / 2) * 32 + lane) & 0xFF;
                        int low = (sub % 2 == 0) ? (v & 0xF) : (v >> 4);
                        int fifth = ((b.get(at + 16 + lane) & 0xFF) >> sub) & 1;
                        out[blk * 256 + e] = d * sc[sub] * (low + 16 * fifth) - dmin * mn[sub];
                    }
                }
            }
            case Q4_K -> {
                for (int blk = 0; blk < n / 256; blk++) {
                    int at = blk * 144;
                    float d = half(b, at), dmin = half(b, at + 2);
                    int[] sc = new int[8], mn = new int[8];
                    unpackScalesMins(b, at + 4, sc, mn);
                    for (int e = 0; e < 256; e++) {
                        int sub = e / 32;
                        int group = e / 64, lane = e % 32;
                        int v = b.get(at + 16 + group * 32 + lane) & 0xFF;
                        int q = (sub % 2 == 0) ? (v & 0xF) : (v >> 4);
                        out[blk * 256 + e] = d * sc[sub] * q - dmin * mn[sub];
                    }
                }
            }
            case MXFP4 -> {
                // E8M0 byte e, then nibbles as Q4_0's; value = (FP4 E2M1 value * 2) * 2^(e - 128)
                float[] v = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
                for (int blk = 0; blk < n / 32; blk++) {
                    int at = blk * 17;
                    int e = b.get(at) & 0xFF;
                    for (int j = 0; j < 16; j++) {
                        int q = b.get(at + 1 + j) & 0xFF;
                        out[blk * 32 + j] = Math.scalb(v[q & 0xF], e - 128);
                        out[blk * 32 + 16 + j] = Math.scalb(v[q >> 4], e - 128);
                    }
                }
            }
            case IQ4_NL -> {
                // f16 d, then nibbles as Q4_0's indexing ggml's kvalues_iq4nl; value = d * grid[q]
                for (int blk = 0; blk < n / 32; blk++) {
                    int at = blk * 18;
                    float d = half(b, at);
                    for (int j = 0; j < 16; j++) {
                        int q = b.get(at + 2 + j) & 0xFF;
                        out[blk * 32 + j] = d * IQ4_GRID[q & 0xF];
                        out[blk * 32 + 16 + j] = d * IQ4_GRID[q >> 4];
                    }
                }
            }
            case IQ4_XS -> {
                // f16 d, u16 scales_h (2 bits per sub-block), u8 scales_l[4] (a nibble per sub-block),
                // then 8 x 16 bytes of nibbles; value = d * (scale - 32) * grid[q]
                for (int blk = 0; blk < n / 256; blk++) {
                    int at = blk * 136;
                    float d = half(b, at);
                    int scalesH = b.getShort(at + 2) & 0xFFFF;
                    for (int ib = 0; ib < 8; ib++) {
                        int ls = ((b.get(at + 4 + ib / 2) >> (4 * (ib % 2))) & 0xF) | (((scalesH >> (2 * ib)) & 3) << 4);
                        float dl = d * (ls - 32);
                        for (int j = 0; j < 16; j++) {
                            int q = b.get(at + 8 + 16 * ib + j) & 0xFF;
                            out[blk * 256 + 32 * ib + j] = dl * IQ4_GRID[q & 0xF];
                            out[blk * 256 + 32 * ib + 16 + j] = dl * IQ4_GRID[q >> 4];
                        }
                    }
                }
            }
            case Q2_K -> {
                for (int blk = 0; blk < n / 256; blk++) {
                    int at = blk * 84;
                    float d = half(b, at + 80), dmin = half(b, at + 82);
                    for (int e = 0; e < 256; e++) {
                        int scaleMin = b.get(at + e / 16) & 0xFF;
                        out[blk * 256 + e] = d * (scaleMin & 0xF) * twoBits(b, at + 16, e) - dmin * (scaleMin >> 4);
                    }
                }
            }
            case Q3_K -> {
                for (int blk = 0; blk < n / 256; blk++) {
                    int at = blk * 110;
                    float d = half(b, at + 108);
                    int[] s = new int[12];
                    for (int i = 0; i < 12; i++) s[i] = b.get(at + 96 + i) & 0xFF;
                    for (int e = 0; e < 256; e++) {
                        int k = e / 16;
                        int low4 = k < 8 ? s[k] & 0xF : s[k - 8] >> 4;
                        int top2 = (s[8 + k % 4] >> (2 * (k / 4))) & 3;
                        int high = ((b.get(at + e % 32) & 0xFF) >> (e / 32)) & 1;
                        int q = twoBits(b, at + 32, e) + 4 * high - 4;
                        out[blk * 256 + e] = d * ((low4 | (top2 << 4)) - 32) * q;
                    }
                }
            }
            case Q6_K -> {
                for (int blk = 0; blk < n / 256; blk++) {
                    int at = blk * 210;
                    float d = half(b, at + 208);
                    for (int e = 0; e < 256; e++) {
                        int half = e / 128, r = e % 128;
                        int quarter = r / 32, l = r % 32;
                        int qlByte = b.get(at + half * 64 + (quarter % 2) * 32 + l) & 0xFF;
                        int low = quarter < 2 ? (qlByte & 0xF) : (qlByte >> 4);
                        int qhByte = b.get(at + 128 + half * 32 + l) & 0xFF;
                        int high = (qhByte >> (2 * quarter)) & 3;
                        int q = (low | (high << 4)) - 32;
                        int scale = b.get(at + 192 + e / 16);
                        out[blk * 256 + e] = d * scale * q;
                    }
                }
            }
        }
        return out;
    }

    /**
     * Q5_0/Q5_1 level of element e: the low four bits from the nibbles after the 4-byte fifth-bit
     * word at {@code qh} (byte e % 16, low nibble for e < 16), the fifth from bit e of that word.
     */
    private static int fiveBits(ByteBuffer b, int qh, int e) {
        int v = b.get(qh + 4 + e % 16) & 0xFF;
        int low = e < 16 ? (v & 0xF) : (v >> 4);
        return low | ((b.getInt(qh) >>> e) & 1) << 4;
    }

    /**
     * Q2_K/Q3_K 2-bit part of element e (0..255) from the 64 bytes at {@code qs}: byte e % 32 of
     * its half of 128, bits 2·((e % 128) / 32) and up.
     */
    private static int twoBits(ByteBuffer b, int qs, int e) {
        int v = b.get(qs + 32 * (e / 128) + e % 32) & 0xFF;
        return (v >> (2 * ((e % 128) / 32))) & 3;
    }

    /** The Q4_K/Q5_K 12-byte packing of eight 6-bit scales and mins. */
    private static void unpackScalesMins(ByteBuffer b, int at, int[] sc, int[] mn) {
        int[] s = new int[12];
        for (int i = 0; i < 12; i++) s[i] = b.get(at + i) & 0xFF;
        for (int j = 0; j < 4; j++) {
            sc[j] = s[j] & 63;
            mn[j] = s[j + 4] & 63;
        }
        for (int j = 4; j < 8; j++) {
            sc[j] = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
            mn[j] = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
        }
    }
}
