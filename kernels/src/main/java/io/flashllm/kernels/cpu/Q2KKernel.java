package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q2_K (Q2_K downloads, the smallest K-quant): super-blocks of 84 bytes, sixteen sub-blocks of 16
 * weights, each with a 4-bit scale and a 4-bit min; weight = d·scale·q − dmin·min with q in 0..3.
 * The 2-bit q sit four to a byte: byte l of each 32-byte half holds weight l of its four 32-weight
 * runs, bits 2j..2j+1 for run j.
 */
class Q2KKernel extends SubBlockKernel {
    Q2KKernel() {
        super(256, 84, 16);
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
        float d = HALF[s.get(SHORT_LE, block + 80) & 0xffff];
        float dmin = HALF[s.get(SHORT_LE, block + 82) & 0xffff];
        for (int k = 0; k < 16; k++) {
            int sc = s.get(ValueLayout.JAVA_BYTE, block + k) & 0xff;
            scale[k] = d * (sc & 15);
            min[k] = -dmin * (sc >>> 4);
        }
        for (int half = 0; half < 2; half++) {
            for (int part = 0; part < 2; part++) {
                ByteVector v = ByteVector.fromMemorySegment(B16, s, block + 16 + 32 * half + 16 * part, LE);
                for (int run = 0; run < 4; run++) {
                    v.lanewise(VectorOperators.LSHR, 2 * run).and((byte) 3).intoArray(q, 128 * half + 32 * run + 16 * part);
                }
            }
        }
    }
}
