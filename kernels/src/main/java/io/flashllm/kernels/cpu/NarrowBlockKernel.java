package io.flashllm.kernels.cpu;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;

/**
 * The K-quants for 128-bit vectors (see {@link Q8_0NarrowKernel}): each 256-weight super-block is
 * decoded with byte-vector operations into a per-thread buffer of floats that stays in L1, then
 * multiplied from there: {@code dot} for a single row, {@code axpy}, {@code dequant}. The products
 * that carry decoding, two rows at a time, decode in registers instead ({@code dot2} of Q4_K and
 * Q6_K: about twice as fast from DRAM, kernels/README.md).
 */
abstract class NarrowBlockKernel extends RowKernel {
    static final int BLOCK = 256;
    private static final ThreadLocal<float[]> BUFFER = ThreadLocal.withInitial(() -> new float[BLOCK]);
    private final int blockBytes;

    NarrowBlockKernel(int blockBytes) {
        this.blockBytes = blockBytes;
    }

    /** Writes the 256 weights of the super-block at {@code block} to {@code out[outOff ..]}. */
    abstract void decode(MemorySegment s, long block, float[] out, int outOff);

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        float[] w = BUFFER.get();
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0, blocks = cols / BLOCK; b < blocks; b++) {
            decode(s, off + (long) blockBytes * b, w, 0);
            int xb = xOff + BLOCK * b;
            for (int i = 0; i < BLOCK; i += 4) {
                acc = FloatVector.fromArray(F, w, i).fma(FloatVector.fromArray(F, x, xb + i), acc);
            }
        }
        FloatVector fold1 = acc.add(acc.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        float[] w = BUFFER.get();
        FloatVector av = FloatVector.broadcast(F, a);
        for (int b = 0, blocks = cols / BLOCK; b < blocks; b++) {
            decode(s, off + (long) blockBytes * b, w, 0);
            int ob = outOff + BLOCK * b;
            for (int i = 0; i < BLOCK; i += 4) {
                FloatVector.fromArray(F, w, i).fma(av, FloatVector.fromArray(F, out, ob + i)).intoArray(out, ob + i);
            }
        }
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        for (int b = 0, blocks = cols / BLOCK; b < blocks; b++) {
            decode(s, off + (long) blockBytes * b, out, outOff + BLOCK * b);
        }
    }
}
