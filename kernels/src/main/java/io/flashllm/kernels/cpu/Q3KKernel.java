package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q3_K (Q3_K_S, Q3_K_M and Q3_K_L downloads): super-blocks of 110 bytes, sixteen sub-blocks of 16
 * weights with a signed 6-bit scale each; weight = d·(scale − 32)·(q − 4), q in 0..7 made of a
 * 2-bit low part laid out as Q2_K's and a high bit: weight l of 32-weight run r (0..7) takes bit r
 * of high-bit byte l. Decoded as {@code scale * q + min} with min = −4·scale.
 */
class Q3KKernel extends SubBlockKernel {
    Q3KKernel() {
        super(256, 110, 16);
    }

    /** Its sub-blocks of 16 have no per-32 sums of x to prepare. */
    @Override
    public int prepSize(int cols) {
        return 0;
    }

    @Override
    public void prepare(float[] x, int xOff, int cols, float[] prep) {
    }

    @Override
    void decode(MemorySegment s, long block, byte[] q, float[] scale, float[] min) {
        scales(s, block, scale, min);
        for (int half = 0; half < 2; half++) {
            for (int part = 0; part < 2; part++) {
                ByteVector v = ByteVector.fromMemorySegment(B16, s, block + 32 + 32 * half + 16 * part, LE);
                ByteVector h = ByteVector.fromMemorySegment(B16, s, block + 16 * part, LE);
                for (int run = 0; run < 4; run++) {
                    int bit = 4 * half + run; // moved to bit 2 of q
                    ByteVector high = bit >= 2 ? h.lanewise(VectorOperators.LSHR, bit - 2)
                            : h.lanewise(VectorOperators.LSHL, 2 - bit);
                    v.lanewise(VectorOperators.LSHR, 2 * run).and((byte) 3).or(high.and((byte) 4))
                            .intoArray(q, 128 * half + 32 * run + 16 * part);
                }
            }
        }
    }

    /** The sixteen sub-blocks' d·(scale − 32) into {@code scale}, and −4 times it into {@code min}. */
    static void scales(MemorySegment s, long block, float[] scale, float[] min) {
        float d = HALF[s.get(SHORT_LE, block + 108) & 0xffff];
        long low = s.get(Simd.LONG_LE, block + 96);  // bytes 0..7: low 4 bits, nibble k / 8 of byte k % 8
        int high = s.get(Simd.INT_LE, block + 104);  // bytes 8..11: top 2 bits, bits 2 (k / 4) of byte 8 + k % 4
        for (int k = 0; k < 16; k++) {
            int lo = (int) (low >>> (8 * (k % 8) + 4 * (k / 8))) & 15;
            int hi = (high >>> (8 * (k % 4) + 2 * (k / 4))) & 3;
            float sc = d * ((lo | (hi << 4)) - 32);
            scale[k] = sc;
            min[k] = -4 * sc;
        }
    }
}
