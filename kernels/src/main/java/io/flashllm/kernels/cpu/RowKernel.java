package io.flashllm.kernels.cpu;

import io.flashllm.kernels.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * The per-type inner loops over one row of a weight matrix stored at byte offset {@code off} of
 * {@code s} ({@code cols} elements, a whole number of blocks). Implementations decode blocks in
 * registers and never allocate.
 */
public abstract class RowKernel {

    /** Returns {@code W . x[xOff .. xOff + cols)}. */
    public abstract float dot(MemorySegment s, long off, int cols, float[] x, int xOff);

    /**
     * Floats of per-activation data that {@link #prepare} computes for {@link #dot2}/{@link #dot4}
     * over {@code cols} columns; 0 (the default) when the kernel needs none.
     */
    public int prepSize(int cols) {
        return 0;
    }

    /**
     * Computes, once per matrix-vector product, what the multi-row kernels reuse for every row of
     * it (Q4_0: per-block sums of x, which take its offset of 8 out of the inner loop), into
     * {@code prep[0 .. prepSize(cols))}.
     */
    public void prepare(float[] x, int xOff, int cols, float[] prep) {
    }

    /**
     * Two rows at {@code off0} and {@code off1} against the same activations:
     * {@code out[outOff] = W0 . x}, {@code out[outOff + 1] = W1 . x}; {@code prep} is what
     * {@link #prepare} made of these activations (may be null when {@link #prepSize} is 0).
     * Kernels override this to share each activation load between the rows and to run twice as
     * many independent accumulator chains.
     */
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        out[outOff] = dot(s, off0, cols, x, xOff);
        out[outOff + 1] = dot(s, off1, cols, x, xOff);
    }

    /**
     * Four rows at {@code off0..off3} against the same activations, into {@code out[outOff + i]};
     * {@code prep} as for {@link #dot2}. Streaming from DRAM, a core keeps more rows in flight this way.
     */
    public void dot4(MemorySegment s, long off0, long off1, long off2, long off3, int cols, float[] x, int xOff,
                     float[] prep, float[] out, int outOff) {
        dot2(s, off0, off1, cols, x, xOff, prep, out, outOff);
        dot2(s, off2, off3, cols, x, xOff, prep, out, outOff + 2);
    }

    /**
     * Rows {@code MatVec.matvec} hands this kernel per call: 8 ({@link #dot8}) where the kernel
     * implements dot8 itself, else 4 ({@link #dot4}). The default dot8 (two dot4 calls over rows an
     * eighth apart) decoded llama 1.1B Q4_K_M 2-4% slower than dot4 over the quarters.
     */
    public int rowsPerCall() {
        return 4;
    }

    /**
     * Eight rows at {@code off0..off7} against the same activations, into {@code out[outOff + i]};
     * {@code prep} as for {@link #dot2}. The default is two {@link #dot4} calls.
     */
    public void dot8(MemorySegment s, long off0, long off1, long off2, long off3, long off4, long off5, long off6,
                     long off7, int cols, float[] x, int xOff, float[] prep, float[] out, int outOff) {
        dot4(s, off0, off1, off2, off3, cols, x, xOff, prep, out, outOff);
        dot4(s, off4, off5, off6, off7, cols, x, xOff, prep, out, outOff + 4);
    }

    /**
     * Eight gathered rows ({@code MatVec.matvecRows}: neuron-cache rows, rows a selector picked),
     * into {@code out[outOff + i]}. The default is two {@link #dot4} calls, the same work as four
     * rows per call. A kernel that overrides it keeps its own copy of its {@link #dot8} code here
     * rather than calling it: gathered rows are native memory in a bundle while dense products read
     * mapped files, and one compiled method fed both segment classes runs several times slower.
     */
    public void dot8Gathered(MemorySegment s, long off0, long off1, long off2, long off3, long off4, long off5,
                             long off6, long off7, int cols, float[] x, int xOff, float[] prep, float[] out, int outOff) {
        dot4(s, off0, off1, off2, off3, cols, x, xOff, prep, out, outOff);
        dot4(s, off4, off5, off6, off7, cols, x, xOff, prep, out, outOff + 4);
    }

    /** {@code out[outOff + c] += a * W[c]} for every column. */
    public abstract void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff);

    /**
     * {@code out[outOff + c] += a0 * W0[c] + a1 * W1[c] + a2 * W2[c] + a3 * W3[c]} for every column,
     * the rows at {@code off0..off3}: the sparse down projection, four neurons' columns per pass.
     * Kernels override this to load and store {@code out} once for four rows and to keep four
     * weight streams in flight, since the gathered rows of the neuron cache are scattered in DRAM
     * and one short row at a time leaves the core waiting on each miss. The default is four
     * {@link #axpy} calls.
     */
    public void axpy4(MemorySegment s, long off0, long off1, long off2, long off3, int cols,
                      float a0, float a1, float a2, float a3, float[] out, int outOff) {
        axpy(s, off0, cols, a0, out, outOff);
        axpy(s, off1, cols, a1, out, outOff);
        axpy(s, off2, cols, a2, out, outOff);
        axpy(s, off3, cols, a3, out, outOff);
    }

    /**
     * As {@link #axpy4} for the eight rows at {@code off0..off7} with coefficients {@code a[aOff ..
     * aOff + 8)}. The default is two {@link #axpy4} calls.
     */
    public void axpy8(MemorySegment s, long off0, long off1, long off2, long off3, long off4, long off5, long off6,
                      long off7, int cols, float[] a, int aOff, float[] out, int outOff) {
        axpy4(s, off0, off1, off2, off3, cols, a[aOff], a[aOff + 1], a[aOff + 2], a[aOff + 3], out, outOff);
        axpy4(s, off4, off5, off6, off7, cols, a[aOff + 4], a[aOff + 5], a[aOff + 6], a[aOff + 7], out, outOff);
    }

    /** {@code out[outOff + c] = W[c]} for every column. */
    public abstract void dequant(MemorySegment s, long off, int cols, float[] out, int outOff);

    /**
     * Whether {@link #dot4x4} decodes the rows in registers; {@code MatVec.matmul} then uses it for
     * small batches (a decode step across slots) instead of decoding rows into a float buffer, and
     * {@link #dot4} without {@link #prepare} for a batch's last rows: only a kernel whose
     * {@link #prepSize} is 0 may say true. Its {@code dot4x4} must add each product as its
     * {@code dot4} does, so a row batched gives the bits it gives alone
     * ({@code MatVec.smallBatchMatchesMatvec}).
     */
    public boolean fusesBatch4() {
        return false;
    }

    /**
     * Four consecutive rows at {@code off + i*rowBytes} (i = 0..3) times activation rows
     * {@code b..b+3} of {@code x} ({@code cols} each): {@code out[(b+j)*rows + r+i]}. The default is
     * sixteen {@link #dot} calls.
     */
    public void dot4x4(MemorySegment s, long off, long rowBytes, int cols, float[] x, int b, int rows, int r, float[] out) {
        for (int j = 0; j < 4; j++) {
            for (int i = 0; i < 4; i++) out[(b + j) * rows + r + i] = dot(s, off + i * rowBytes, cols, x, (b + j) * cols);
        }
    }

    private static final RowKernel[] BY_TYPE = new RowKernel[GgmlType.values().length];

    static {
        for (GgmlType t : GgmlType.values()) {
            BY_TYPE[t.ordinal()] = !Simd.ENABLED ? narrowKernel(t) : Simd.L == 8 ? kernel256(t) : vectorKernel(t);
        }
    }

    /**
     * 128-bit vectors (four float lanes: aarch64's NEON, x86 without AVX2), where the wide quantized
     * kernels would need 4-byte vectors: loads of 8 bytes converted in two parts, and the K-quants
     * decoded a super-block at a time into L1 (the {@code *NarrowKernel} classes).
     */
    private static RowKernel narrowKernel(GgmlType t) {
        // Their loops step four floats per vector: any other width would compute wrong sums.
        if (Simd.L != 4) throw new IllegalStateException("the narrow kernels need 4 float lanes, have " + Simd.L);
        return switch (t) {
            case F32 -> new F32Kernel();
            case F16 -> f16Kernel();
            case BF16 -> new Bf16Kernel();
            case Q8_0 -> new Q8_0NarrowKernel();
            case Q4_0 -> new Q4_0NarrowKernel();
            case Q4_K -> new Q4KNarrowKernel();
            case Q6_K -> new Q6KNarrowKernel();
            case Q4_1, Q5_0, Q5_1 -> new Q32Kernel(t);
            case Q5_K -> new Q5KKernel();
            case Q2_K -> new Q2KKernel();
            case Q3_K -> new Q3KKernel();
            case MXFP4 -> NibbleTableKernel.mxfp4(); // SubBlockKernel's width-independent loops at this width
            case IQ4_NL -> NibbleTableKernel.iq4nl();
            case IQ4_XS -> new Iq4XsKernel();
        };
    }

    /**
     * 256-bit vectors (AVX2, the common x86 edge box): kernels written out for eight float lanes
     * and sixteen registers where the wide kernel's generic path was slow; the other types keep
     * the wide kernels, which take a width-independent path at this width.
     */
    private static RowKernel kernel256(GgmlType t) {
        return switch (t) {
            case Q8_0 -> new Q8_0Kernel256();
            case Q4_K -> new Q4KKernel256();
            case Q4_1, Q5_0, Q5_1 -> new Q32Kernel256(t);
            case Q5_K -> new Q5KKernel256();
            case Q6_K -> new Q6KKernel256();
            case Q3_K -> new Q3KKernel256();
            case MXFP4 -> new NibbleTableKernel256(NibbleTableKernel.mxfp4());
            case IQ4_NL -> new NibbleTableKernel256(NibbleTableKernel.iq4nl());
            default -> vectorKernel(t);
        };
    }

    private static RowKernel vectorKernel(GgmlType t) {
        return switch (t) {
            case F32 -> new F32Kernel();
            case F16 -> f16Kernel();
            case BF16 -> new Bf16Kernel();
            case Q8_0 -> new Q8_0Kernel();
            case Q4_0 -> new Q4_0Kernel();
            case Q4_K -> new Q4KKernel();
            case Q6_K -> new Q6KKernel();
            case Q4_1, Q5_0, Q5_1 -> new Q32Kernel(t);
            case Q5_K -> new Q5KKernel();
            case Q2_K -> new Q2KKernel();
            case Q3_K -> new Q3KKernel();
            case MXFP4 -> NibbleTableKernel.mxfp4();
            case IQ4_NL -> NibbleTableKernel.iq4nl();
            case IQ4_XS -> new Iq4XsKernel();
        };
    }

    /**
     * {@link F16MultiplyKernel} unless the CPU is Intel's, whose cores take a microcode assist for
     * the subnormal operands that kernel's multiply sees; there {@link F16Kernel}. The system
     * property {@code flashllm.f16.widen} ({@code multiply} or {@code buffer}) overrides the choice.
     */
    static RowKernel f16Kernel() {
        String widen = System.getProperty("flashllm.f16.widen", "");
        boolean multiply = switch (widen) {
            case "multiply" -> true;
            case "buffer" -> false;
            case "" -> !CpuVendor.isIntel();
            default -> throw new IllegalArgumentException("flashllm.f16.widen must be multiply or buffer, got " + widen);
        };
        return multiply ? new F16MultiplyKernel() : new F16Kernel();
    }

    /** The kernel for {@code type} at the vector width in use: 512, 256 or 128 bits. */
    public static RowKernel forType(GgmlType type) {
        return BY_TYPE[type.ordinal()];
    }
}
