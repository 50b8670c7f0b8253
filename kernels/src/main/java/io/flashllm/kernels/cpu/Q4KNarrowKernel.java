package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.INT_LE;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.LONG_LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q4_K for 128-bit vectors: super-blocks of 144 bytes (d, dmin, 12 bytes of packed 6-bit scales
 * and mins, 128 bytes of nibbles: each 32 bytes hold sub-block 2p in the low and 2p+1 in the high
 * nibbles); weight = d·scale·q − dmin·min.
 */
final class Q4KNarrowKernel extends NarrowBlockKernel {
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;

    Q4KNarrowKernel() {
        super(144);
    }

    @Override
    void decode(MemorySegment s, long block, float[] out, int outOff) {
        float d = HALF[s.get(SHORT_LE, block) & 0xffff];
        float dmin = HALF[s.get(SHORT_LE, block + 2) & 0xffff];
        long packedLo = s.get(LONG_LE, block + 4); // the 12 bytes of 6-bit scales and mins, as Q4KKernel reads them
        int packedHi = s.get(INT_LE, block + 12);
        for (int pair = 0; pair < 4; pair++) {
            int lo = 2 * pair, hi = lo + 1;
            float sLo = d * Q4KKernel.scale(packedLo, packedHi, lo), mLo = -dmin * Q4KKernel.min(packedLo, packedHi, lo);
            float sHi = d * Q4KKernel.scale(packedLo, packedHi, hi), mHi = -dmin * Q4KKernel.min(packedLo, packedHi, hi);
            int oLo = outOff + 32 * lo, oHi = outOff + 32 * hi;
            for (int j = 0; j < 32; j += 8) {
                ByteVector q = ByteVector.fromMemorySegment(B8, s, block + 16 + 32L * pair + j, LE);
                ByteVector l = q.and((byte) 15), h = q.lanewise(VectorOperators.LSHR, 4);
                ((FloatVector) l.convertShape(VectorOperators.B2F, F, 0)).fma(sLo, mLo).intoArray(out, oLo + j);
                ((FloatVector) l.convertShape(VectorOperators.B2F, F, 1)).fma(sLo, mLo).intoArray(out, oLo + j + 4);
                ((FloatVector) h.convertShape(VectorOperators.B2F, F, 0)).fma(sHi, mHi).intoArray(out, oHi + j);
                ((FloatVector) h.convertShape(VectorOperators.B2F, F, 1)).fma(sHi, mHi).intoArray(out, oHi + j + 4);
            }
        }
    }
}
