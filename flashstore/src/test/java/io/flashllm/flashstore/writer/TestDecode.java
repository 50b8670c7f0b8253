package io.flashllm.flashstore.writer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Test-side decoders written from the block definitions, independent of the quantizers, so a
 * layout mistake in the writer cannot be mirrored by the check.
 */
final class TestDecode {
    private TestDecode() {}

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
            case Q4_K -> {
                for (int blk = 0; blk < n / 256; blk++) {
                    int at = blk * 144;
                    float d = half(b, at), dmin = half(b, at + 2);
                    int[] sc = new int[8], mn = new int[8];
                    int[] s = new int[12];
                    for (int i = 0; i < 12; i++) s[i] = b.get(at + 4 + i) & 0xFF;
                    for (int j = 0; j < 4; j++) {
                        sc[j] = s[j] & 63;
                        mn[j] = s[j + 4] & 63;
                    }
                    for (int j = 4; j < 8; j++) {
                        sc[j] = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
                        mn[j] = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
                    }
                    for (int e = 0; e < 256; e++) {
                        int sub = e / 32;
                        int group = e / 64, lane = e % 32;
                        int v = b.get(at + 16 + group * 32 + lane) & 0xFF;
                        int q = (sub % 2 == 0) ? (v & 0xF) : (v >> 4);
                        out[blk * 256 + e] = d * sc[sub] * q - dmin * mn[sub];
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
}
