package io.flashllm.kernels;

/**
 * Tensor element encodings, numbered as GGUF numbers them (ggml_type), so a type id read from a
 * GGUF file maps straight onto this enum. Quantized types store fixed-size blocks of elements.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    /** 32 elements: f16 scale d, then 16 bytes of nibbles; low nibbles are elements 0..15, high 16..31. */
    Q4_0(2, 32, 18),
    /** 32 elements: f16 scale d, f16 offset m, then 16 bytes of nibbles as Q4_0; value = d * q + m. */
    Q4_1(3, 32, 20),
    /**
     * 32 elements: f16 scale d, 4 bytes of fifth bits (bit e for element e, little-endian), 16 bytes
     * of nibbles as Q4_0; value = d * (q - 16) with q in 0..31.
     */
    Q5_0(6, 32, 22),
    /** 32 elements: f16 d, f16 m, the fifth bits and nibbles as Q5_0; value = d * q + m. */
    Q5_1(7, 32, 24),
    /** 32 elements: f16 scale d, then 32 signed bytes. */
    Q8_0(8, 32, 34),
    /**
     * 256 elements in sixteen sub-blocks of 16 (Q2_K downloads): 16 bytes of scales (sub-block k's
     * 4-bit scale in the low nibble of byte k, its 4-bit min in the high nibble), 64 bytes of 2-bit
     * q, f16 d, f16 dmin; value = d * scale * q - dmin * min. Element 128 * h + 32 * j + l takes bits
     * 2j..2j+1 of q byte 32 * h + l.
     */
    Q2_K(10, 256, 84),
    /**
     * 256 elements in sixteen sub-blocks of 16 (Q3_K_S/M/L downloads): 32 bytes of high bits, 64
     * bytes of 2-bit low parts laid out as Q2_K's, 12 bytes of sixteen packed 6-bit scales, f16 d;
     * value = d * (scale - 32) * (low + 4 * high - 4). Element 128 * h + 32 * j + l takes bit 4h + j
     * of high-bit byte l. Scale k: its low 4 bits are nibble k / 8 of byte k % 8, its top 2 bits
     * bits 2 * (k / 4) of byte 8 + k % 4.
     */
    Q3_K(11, 256, 110),
    /** 256 elements: f16 d, f16 dmin, 12 bytes of packed 6-bit scales/mins, 128 bytes of nibbles. */
    Q4_K(12, 256, 144),
    /**
     * 256 elements: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins packed as Q4_K's, 32 bytes of
     * fifth bits, 128 bytes of nibbles laid out as Q4_K's; element 32 * s + l (sub-block s) takes
     * bit s of fifth-bit byte l.
     */
    Q5_K(13, 256, 176),
    /** 256 elements: 128 bytes low nibbles, 64 bytes high 2 bits, 16 int8 scales, f16 d. */
    Q6_K(14, 256, 210),
    /**
     * 32 elements (IQ4_NL downloads, and the fallback of the IQ4_XS and low-bit K mixes for rows not
     * a multiple of 256): f16 d, then 16 bytes of nibbles laid out as Q4_0's; value = d * IQ4[q],
     * IQ4 being the non-linear grid {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53,
     * 69, 89, 113}.
     */
    IQ4_NL(20, 32, 18),
    /**
     * 256 elements in eight sub-blocks of 32 (IQ4_XS downloads): f16 d, a 16-bit word of the
     * scales' top bits (2 per sub-block, sub-block k at bits 2k), 4 bytes of their low nibbles
     * (sub-block k in nibble k % 2 of byte k / 2), then 128 bytes: sub-block k's 16 bytes of nibbles
     * laid out as IQ4_NL's; value = d * (scale - 32) * IQ4[q].
     */
    IQ4_XS(23, 256, 136),
    BF16(30, 1, 2),
    /**
     * 32 elements (OCP microscaling FP4, gpt-oss's expert weights): an E8M0 exponent byte e, then 16
     * bytes of nibbles laid out as Q4_0's; value = kvalues[q] * 2^(e - 128), kvalues being the FP4
     * E2M1 values doubled: {0, 1, 2, 3, 4, 6, 8, 12} and their negatives for q = 8..15.
     */
    MXFP4(39, 32, 17);

    public final int ggmlId;
    public final int blockSize;
    public final int blockBytes;

    GgmlType(int ggmlId, int blockSize, int blockBytes) {
        this.ggmlId = ggmlId;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    public boolean quantized() {
        return blockSize > 1;
    }

    /** The type with this GGUF id, or null when flashllm does not support it. */
    public static GgmlType fromId(int id) {
        for (GgmlType t : values()) {
            if (t.ggmlId == id) return t;
        }
        return null;
    }

    /**
     * Bytes taken by {@code elements} elements, or -1 when the count is not a whole number of blocks
     * or the size overflows a long.
     */
    public long bytesFor(long elements) {
        if (elements < 0 || elements % blockSize != 0) return -1;
        long blocks = elements / blockSize;
        if (blocks > Long.MAX_VALUE / blockBytes) return -1;
        return blocks * blockBytes;
    }
}
