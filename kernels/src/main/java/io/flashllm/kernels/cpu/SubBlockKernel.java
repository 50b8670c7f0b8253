package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.L;

/**
 * The types found in downloads next to the tuned ones (Q4_1, Q5_0, Q5_1, Q5_K, and Q2_K and Q3_K,
 * whose sub-blocks are 16 weights), at any vector width. Each is a run of sub-blocks of 32 (or 16)
 * weights whose weights are {@code scale * q + min} with a small unsigned q; a block is decoded
 * with byte-vector operations into a per-thread buffer of q (L1), the sub-blocks' scale and min
 * into two more, and the products then run over the buffer:
 * {@code W . x = sum over sub-blocks of scale * (q . x) + min * sum(x)}. The same code at 128, 256
 * and 512 bits; with 512-bit vectors the subclasses' single- and two-row products decode in
 * registers instead (their {@code dot} and {@code dot2}), with the sums of x from {@link #prepare},
 * and with 256-bit vectors {@link Q32Kernel256} ({@code dot}, {@code dot2}), {@link Q5KKernel256}
 * and {@link Q3KKernel256} ({@code dot2}) do. What remains here runs the axpy and dequant paths
 * (the down columns of a flash bundle in these types, batched prompts), Q5_K's and Q3_K's
 * single-row {@code dot} at 256 bits (an odd last row of a product or of a gathered set), Q2_K's
 * products at 256 bits, and every product at 128 bits.
 */
abstract class SubBlockKernel extends RowKernel {
    /** 16 bytes: the widest byte vector every platform has; widened to floats L lanes at a time. */
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final int PARTS = 16 / L;

    static final class Buffers {
        final byte[] q = new byte[256];
        /** Per sub-block: eight of 32 weights, or sixteen of 16 (Q2_K, Q3_K). */
        final float[] scale = new float[16];
        final float[] min = new float[16];
        /** Up to four rows' sub-block scales, for the in-register kernels that decode several rows at once. */
        final float[] scale4 = new float[32];
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    /** This thread's decode buffers (also for subclasses' in-register loops, which need only the scales). */
    static Buffers buffers() {
        return BUFFERS.get();
    }

    private final int blockSize;
    private final int blockBytes;
    /** Weights per sub-block: 32, or 16 for Q2_K and Q3_K. */
    private final int sub;
    /** log2 of the 16-weight pieces per sub-block. */
    private final int subShift;

    SubBlockKernel(int blockSize, int blockBytes) {
        this(blockSize, blockBytes, 32);
    }

    SubBlockKernel(int blockSize, int blockBytes, int sub) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.sub = sub;
        this.subShift = sub == 32 ? 1 : 0;
    }

    int blockBytes() {
        return blockBytes;
    }

    /**
     * Decodes the block at {@code block}: {@code q[i]} (0..31) for each of its weights, and for
     * sub-block k ({@code sub} weights) {@code scale[k]} and {@code min[k]}, so weight i is
     * {@code scale[i / sub] * q[i] + min[i / sub]}.
     */
    abstract void decode(MemorySegment s, long block, byte[] q, float[] scale, float[] min);

    /**
     * With 512-bit vectors, the sum of x over each 32 weights, for the subclasses' two-row kernels,
     * which take each sub-block's offset (min) share from it once per row instead of per weight
     * (none for sub-blocks of 16, whose kernels are single-row).
     */
    @Override
    public int prepSize(int cols) {
        return L == 16 && sub == 32 ? cols / 32 : 0;
    }

    @Override
    public void prepare(float[] x, int xOff, int cols, float[] prep) {
        if (L != 16 || sub != 32) return;
        for (int k = 0, subs = cols / 32; k < subs; k++) prep[k] = Simd.sum32(x, xOff + 32 * k);
    }

    /**
     * What the 256-bit two-row kernels prepare: the sums of x per 32 weights, then a copy of x that
     * their second row reads (two rows' loads of the same x are merged by the JIT into values held
     * across both, more than sixteen registers hold).
     */
    static int sumsAndCopySize(int cols) {
        return cols / 32 + cols;
    }

    static void sumsAndCopy(float[] x, int xOff, int cols, float[] prep) {
        for (int k = 0, subs = cols / 32; k < subs; k++) prep[k] = Simd.sum32(x, xOff + 32 * k);
        System.arraycopy(x, xOff, prep, cols / 32, cols);
    }

    // The loops below step over pieces of 16 weights (one 16-byte vector), piece h in sub-block
    // h >> subShift. An inner loop over a sub-block's pieces, whose count would be a field, ran
    // slower (KernelBench, one core: Q3_K 0.42 against 0.35 ms a product at 128 bits, 0.33 against
    // 0.27 with AVX2; Q4_1 and Q5_0 5-9% slower at 128 bits).

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        Buffers buf = BUFFERS.get();
        byte[] q = buf.q;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0, blocks = cols / blockSize; b < blocks; b++) {
            decode(s, off + (long) blockBytes * b, q, buf.scale, buf.min);
            for (int h = 0; h < blockSize / 16; h++) {
                int xh = xOff + blockSize * b + 16 * h, k = h >> subShift;
                ByteVector v = ByteVector.fromArray(B16, q, 16 * h);
                FloatVector qx = FloatVector.zero(F), sx = qx;
                for (int p = 0; p < PARTS; p++) {
                    FloatVector xv = FloatVector.fromArray(F, x, xh + L * p);
                    qx = ((FloatVector) v.convertShape(VectorOperators.B2F, F, p)).fma(xv, qx);
                    sx = sx.add(xv);
                }
                acc = qx.fma(FloatVector.broadcast(F, buf.scale[k]), sx.fma(FloatVector.broadcast(F, buf.min[k]), acc));
            }
        }
        FloatVector fold1 = acc.add(acc.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        Buffers buf = BUFFERS.get();
        byte[] q = buf.q;
        for (int b = 0, blocks = cols / blockSize; b < blocks; b++) {
            decode(s, off + (long) blockBytes * b, q, buf.scale, buf.min);
            for (int h = 0; h < blockSize / 16; h++) {
                int k = h >> subShift;
                float as = a * buf.scale[k], am = a * buf.min[k];
                int oh = outOff + blockSize * b + 16 * h;
                ByteVector v = ByteVector.fromArray(B16, q, 16 * h);
                for (int p = 0; p < PARTS; p++) {
                    int o = oh + L * p;
                    ((FloatVector) v.convertShape(VectorOperators.B2F, F, p))
                            .fma(FloatVector.broadcast(F, as), FloatVector.fromArray(F, out, o).add(am))
                            .intoArray(out, o);
                }
            }
        }
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        Buffers buf = BUFFERS.get();
        byte[] q = buf.q;
        for (int b = 0, blocks = cols / blockSize; b < blocks; b++) {
            decode(s, off + (long) blockBytes * b, q, buf.scale, buf.min);
            for (int h = 0; h < blockSize / 16; h++) {
                int k = h >> subShift;
                float sc = buf.scale[k], mn = buf.min[k];
                int oh = outOff + blockSize * b + 16 * h;
                ByteVector v = ByteVector.fromArray(B16, q, 16 * h);
                for (int p = 0; p < PARTS; p++) {
                    ((FloatVector) v.convertShape(VectorOperators.B2F, F, p)).fma(sc, mn).intoArray(out, oh + L * p);
                }
            }
        }
    }
}
