package io.flashllm.kernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class GgmlTypeTest {
    @Test
    void idsAndSizesMatchGguf() {
        assertEquals(GgmlType.Q8_0, GgmlType.fromId(8));
        assertEquals(GgmlType.BF16, GgmlType.fromId(30));
        assertEquals(GgmlType.Q4_1, GgmlType.fromId(3));
        assertEquals(GgmlType.Q5_K, GgmlType.fromId(13));
        assertNull(GgmlType.fromId(4)); // removed from ggml (Q4_2)
        assertNull(GgmlType.fromId(16)); // IQ2_XXS: not supported
        assertEquals(GgmlType.IQ4_NL, GgmlType.fromId(20));
        assertEquals(GgmlType.IQ4_XS, GgmlType.fromId(23));
        // IQ4_NL: d + 16 bytes of nibbles; IQ4_XS: d + 16-bit scale tops + 4 bytes of scale nibbles + 128
        assertEquals(18, GgmlType.IQ4_NL.blockBytes);
        assertEquals(136, GgmlType.IQ4_XS.blockBytes);
        assertEquals(256, GgmlType.IQ4_XS.blockSize);
        assertEquals(GgmlType.Q2_K, GgmlType.fromId(10));
        assertEquals(GgmlType.Q3_K, GgmlType.fromId(11));
        // ggml's block sizes: d, m (f16); qh (4 bytes); 16 bytes of nibbles; Q5_K 2+2+12+32+128;
        // Q2_K 16 scale bytes + 64 of 2-bit q + d + dmin; Q3_K 32 high-bit bytes + 64 + 12 scale bytes + d
        assertEquals(84, GgmlType.Q2_K.blockBytes);
        assertEquals(110, GgmlType.Q3_K.blockBytes);
        assertEquals(256, GgmlType.Q3_K.blockSize);
        assertEquals(20, GgmlType.Q4_1.blockBytes);
        assertEquals(22, GgmlType.Q5_0.blockBytes);
        assertEquals(24, GgmlType.Q5_1.blockBytes);
        assertEquals(176, GgmlType.Q5_K.blockBytes);
        // MXFP4: an E8M0 exponent byte and 16 bytes of nibbles per 32 elements (gpt-oss's experts)
        assertEquals(GgmlType.MXFP4, GgmlType.fromId(39));
        assertEquals(32, GgmlType.MXFP4.blockSize);
        assertEquals(17, GgmlType.MXFP4.blockBytes);
        assertEquals(17 * 90, GgmlType.MXFP4.bytesFor(2880)); // a gpt-oss row: 2880 = 90 blocks
        assertEquals(34 * 2, GgmlType.Q8_0.bytesFor(64));
        assertEquals(-1, GgmlType.Q4_K.bytesFor(100));
        assertEquals(-1, GgmlType.Q8_0.bytesFor(Long.MAX_VALUE - Long.MAX_VALUE % 32));
    }
}
