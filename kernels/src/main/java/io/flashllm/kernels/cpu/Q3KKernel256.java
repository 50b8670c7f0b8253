package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.LE;

/**
 * Q3_K with 256-bit vectors (AVX2): {@link Q3KKernel} with {@link #dot2}, which every row of a
 * product but an odd last one goes through, decoded in registers instead of through
 * {@link SubBlockKernel}'s buffer. Sixteen positions at a time (a 16-byte vector: one sub-block
 * of 16 weights), as {@code Q3KKernel}'s 512-bit loop makes 32: the 2-bit low parts and the high
 * bit put together with 16-bit shifts and byte masks, q − 4 converted to floats in two halves,
 * their two products summed before the sub-block's scale (d folded in) multiplies them in. The
 * second row reads its own copy of x from {@code prep}, as {@link Q4KKernel256}'s does.
 */
final class Q3KKernel256 extends Q3KKernel {
    Q3KKernel256() {
        if (Simd.L != 8) throw new IllegalStateException("Q3KKernel256 needs 8 float lanes, have " + Simd.L);
    }

    /** A copy of x for {@link #dot2}'s second row. */
    @Override
    public int prepSize(int cols) {
        return cols;
    }

    @Override
    public void prepare(float[] x, int xOff, int cols, float[] prep) {
        System.arraycopy(x, xOff, prep, 0, cols);
    }

    /**
     * Two rows; per super-block the two rows' scales unpacked into a per-thread buffer, then four
     * steps of (half h, 16-byte part p), each the four runs of its low-part bytes. Half 1's high
     * bits are shifted down where half 0's are shifted up (by counts that depend on h: bits 6-7 of
     * a lane's high byte would leave the lane going up). Runs alternate between two accumulators
     * per row, so the multiply-adds do not wait on each other; no vector crosses a call or branch.
     */
    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        float[] sc = buffers().scale4;
        FloatVector u0 = FloatVector.zero(F), v0 = u0, u1 = u0, v1 = u0;
        for (int b = 0, blocks = cols / 256; b < blocks; b++) {
            long o0 = off0 + (long) BYTES * b, o1 = off1 + (long) BYTES * b;
            scales(s, o0, sc, 0);
            scales(s, o1, sc, 16);
            for (int r = 0; r < 4; r++) {
                int h = r >> 1, p = r & 1, up = 2 - 2 * h, down = 2 * h;
                ShortVector low0 = ByteVector.fromMemorySegment(B16, s, o0 + 32 + 32 * h + 16 * p, LE).reinterpretAsShorts();
                ShortVector high0 = ByteVector.fromMemorySegment(B16, s, o0 + 16 * p, LE).reinterpretAsShorts()
                        .lanewise(VectorOperators.LSHL, up).lanewise(VectorOperators.LSHR, down);
                ShortVector low1 = ByteVector.fromMemorySegment(B16, s, o1 + 32 + 32 * h + 16 * p, LE).reinterpretAsShorts();
                ShortVector high1 = ByteVector.fromMemorySegment(B16, s, o1 + 16 * p, LE).reinterpretAsShorts()
                        .lanewise(VectorOperators.LSHL, up).lanewise(VectorOperators.LSHR, down);
                for (int run = 0; run < 4; run += 2) {
                    int xr = xOff + 256 * b + 128 * h + 32 * run + 16 * p, pr = xr - xOff, k = 8 * h + 2 * run + p;
                    ByteVector q0 = low0.reinterpretAsBytes().and((byte) 3).or(high0.reinterpretAsBytes().and((byte) 4)).sub((byte) 4);
                    ByteVector q1 = low1.reinterpretAsBytes().and((byte) 3).or(high1.reinterpretAsBytes().and((byte) 4)).sub((byte) 4);
                    low0 = low0.lanewise(VectorOperators.LSHR, 2);
                    high0 = high0.lanewise(VectorOperators.LSHR, 1);
                    low1 = low1.lanewise(VectorOperators.LSHR, 2);
                    high1 = high1.lanewise(VectorOperators.LSHR, 1);
                    FloatVector t = ((FloatVector) q0.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xr));
                    t = ((FloatVector) q0.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, xr + 8), t);
                    u0 = t.fma(FloatVector.broadcast(F, sc[k]), u0);
                    t = ((FloatVector) q1.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, prep, pr));
                    t = ((FloatVector) q1.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, prep, pr + 8), t);
                    u1 = t.fma(FloatVector.broadcast(F, sc[16 + k]), u1);
                    q0 = low0.reinterpretAsBytes().and((byte) 3).or(high0.reinterpretAsBytes().and((byte) 4)).sub((byte) 4);
                    q1 = low1.reinterpretAsBytes().and((byte) 3).or(high1.reinterpretAsBytes().and((byte) 4)).sub((byte) 4);
                    low0 = low0.lanewise(VectorOperators.LSHR, 2);
                    high0 = high0.lanewise(VectorOperators.LSHR, 1);
                    low1 = low1.lanewise(VectorOperators.LSHR, 2);
                    high1 = high1.lanewise(VectorOperators.LSHR, 1);
                    t = ((FloatVector) q0.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xr + 32));
                    t = ((FloatVector) q0.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, xr + 40), t);
                    v0 = t.fma(FloatVector.broadcast(F, sc[k + 2]), v0);
                    t = ((FloatVector) q1.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, prep, pr + 32));
                    t = ((FloatVector) q1.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, prep, pr + 40), t);
                    v1 = t.fma(FloatVector.broadcast(F, sc[16 + k + 2]), v1);
                }
            }
        }
        FloatVector fold1 = u0.add(v0);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold1.lane(0) + fold1.lane(1);
        FloatVector fold2 = u1.add(v1);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold2.lane(0) + fold2.lane(1);
    }
}
