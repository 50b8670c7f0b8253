package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.INT_LE;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.LONG_LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q5_K (Q5_K_M and Q5_K_S downloads): super-blocks of 176 bytes, Q4_K's d, dmin, packed scales and
 * mins and nibble layout, plus 32 bytes of fifth bits before the nibbles: weight l of sub-block k
 * (0..7) takes bit k of byte l. Weight = d·scale·q − dmin·min, q in 0..31.
 */
final class Q5KKernel extends SubBlockKernel {
    Q5KKernel() {
        super(256, 176);
    }

    @Override
    void decode(MemorySegment s, long block, byte[] q, float[] scale, float[] min) {
        float d = HALF[s.get(SHORT_LE, block) & 0xffff];
        float dmin = HALF[s.get(SHORT_LE, block + 2) & 0xffff];
        long packedLo = s.get(LONG_LE, block + 4);
        int packedHi = s.get(INT_LE, block + 12);
        for (int k = 0; k < 8; k++) {
            scale[k] = d * Q4KKernel.scale(packedLo, packedHi, k);
            min[k] = -dmin * Q4KKernel.min(packedLo, packedHi, k);
        }
        for (int half = 0; half < 2; half++) {
            ByteVector h = ByteVector.fromMemorySegment(B16, s, block + 16 + 16 * half, LE);
            for (int pair = 0; pair < 4; pair++) {
                // sub-blocks 2·pair (low nibbles, fifth bit 2·pair) and 2·pair + 1 (high nibbles)
                ByteVector v = ByteVector.fromMemorySegment(B16, s, block + 48 + 32 * pair + 16 * half, LE);
                int bitLo = 2 * pair, bitHi = bitLo + 1;
                ByteVector fifthLo = bitLo <= 4 ? h.lanewise(VectorOperators.LSHL, 4 - bitLo)
                        : h.lanewise(VectorOperators.LSHR, bitLo - 4);
                ByteVector fifthHi = bitHi <= 4 ? h.lanewise(VectorOperators.LSHL, 4 - bitHi)
                        : h.lanewise(VectorOperators.LSHR, bitHi - 4);
                v.and((byte) 15).or(fifthLo.and((byte) 16)).intoArray(q, 64 * pair + 16 * half);
                v.lanewise(VectorOperators.LSHR, 4).or(fifthHi.and((byte) 16)).intoArray(q, 64 * pair + 32 + 16 * half);
            }
        }
    }
}
