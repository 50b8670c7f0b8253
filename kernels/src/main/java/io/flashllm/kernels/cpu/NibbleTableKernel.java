package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.B;
import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.I;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Blocks of 32 weights whose values come from a 16-entry grid: a scale then 16 bytes whose low
 * nibbles are elements 0..15 and high nibbles 16..31; element value {@code values[q] * scale}.
 * Two formats: MXFP4 (gpt-oss's expert weights; 17 bytes, an E8M0 exponent e, the FP4 E2M1 values
 * doubled, scale 2^(e - 128)) and IQ4_NL (18 bytes, an f16 scale, a non-linear grid of whole
 * numbers in -127..113). The values are not affine in q, so a block is decoded by a table lookup,
 * not a multiply-add. The formats differ only in data, held in final fields: the header's length,
 * the grid, and the table that turns the header's low 8 (E8M0) or 16 (f16) bits into the scale.
 *
 * <p>512-bit vectors: a block's 16 bytes are zero-extended to int lanes once; the low nibbles index
 * a 16-lane table of the values' float bits directly (a lane permute, vpermd: {@code selectFrom}
 * wraps its indexes to 0..15, which drops the high nibble without a mask), the high nibbles after a
 * shift. The permute gives floats, so there is no int-to-float conversion: per block and row, the
 * zero-extending load, a shift, two permutes, a multiply and an FMA against x and one FMA with the
 * scale, broadcast from its table as from {@link Simd#HALF}. No prepared activations.
 * {@link #dot8}, {@link #dot4}, {@link #dot2} and {@link #axpy4} load x (or out) once for their rows.
 *
 * <p>256 bits: {@link NibbleTableKernel256}. 128 bits: {@link SubBlockKernel}'s width-independent loops
 * over {@link #decode}, which looks the nibbles up in a 16-byte table (pshufb / tbl) into signed
 * bytes, the scale as for every other sub-block type and a min of zero.
 */
class NibbleTableKernel extends SubBlockKernel {
    /** MXFP4's grid: the FP4 E2M1 values doubled, by nibble; bit 3 is the sign, so 8 is a second zero. */
    static final float[] MXFP4_VALUES = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

    /** IQ4_NL's and IQ4_XS's grid: denser near zero, where most weights are. */
    static final float[] IQ4_VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /**
     * For every E8M0 byte e, the block scale 2^(e - 128) ("E8M0 to float, halved", the half moving
     * into {@link #MXFP4_VALUES}): exponent field e - 1 for e >= 2, the subnormals 2^-127 and 2^-128
     * below. Indexed per block as {@link Simd#HALF} is, so C2 broadcasts it straight from memory.
     */
    static final float[] E8M0_SCALE = new float[256];

    static {
        for (int e = 0; e < 256; e++) E8M0_SCALE[e] = Float.intBitsToFloat(e >= 2 ? (e - 1) << 23 : 0x00200000 << e);
    }

    static NibbleTableKernel mxfp4() {
        return new NibbleTableKernel(1, MXFP4_VALUES, E8M0_SCALE, 0xff);
    }

    static NibbleTableKernel iq4nl() {
        return new NibbleTableKernel(2, IQ4_VALUES, Simd.HALF, 0xffff);
    }

    /** Bytes of the scale before a block's nibbles, and of a whole block. */
    final int header, bytes;
    /** The scale of a block whose first two bytes (little-endian) are h: {@code scales[h & mask]}. */
    final float[] scales;
    final int mask;
    /** The grid as signed bytes (whole numbers), for the byte lookups. */
    final ByteVector tableBytes;
    /** The grid's float bits in int lanes, for the 512-bit permutes. */
    private final IntVector table;

    /** The same format as {@code format} (for the 256-bit subclass). */
    NibbleTableKernel(int header, NibbleTableKernel format) {
        super(32, header + 16);
        this.header = header;
        this.bytes = header + 16;
        this.scales = format.scales;
        this.mask = format.mask;
        this.tableBytes = format.tableBytes;
        this.table = format.table;
    }

    NibbleTableKernel(int header, float[] values, float[] scales, int mask) {
        super(32, header + 16);
        this.header = header;
        this.bytes = header + 16;
        this.scales = scales;
        this.mask = mask;
        this.tableBytes = gridBytes(values);
        this.table = L == 16 ? gridBits(values) : null;
    }

    /** A 16-value grid of whole numbers as a 16-lane byte vector. */
    static ByteVector gridBytes(float[] values) {
        byte[] t = new byte[16];
        for (int i = 0; i < 16; i++) t[i] = (byte) values[i];
        return ByteVector.fromArray(B16, t, 0);
    }

    /** A 16-value grid's float bits as a 16-lane int vector (512 bits). */
    static IntVector gridBits(float[] values) {
        int[] t = new int[16];
        for (int i = 0; i < 16; i++) t[i] = Float.floatToIntBits(values[i]);
        return IntVector.fromArray(I, t, 0);
    }

    /** Nothing to prepare: there is no per-block offset whose share a sum of x would carry. */
    @Override
    public int prepSize(int cols) {
        return 0;
    }

    @Override
    public void prepare(float[] x, int xOff, int cols, float[] prep) {
    }

    /** Signed bytes {@code values[q]}, the scale, a min of zero: weight i is {@code scale * q[i]}. */
    @Override
    void decode(MemorySegment s, long block, byte[] q, float[] scale, float[] min) {
        ByteVector v = ByteVector.fromMemorySegment(B16, s, block + header, LE);
        // selectFrom wraps each index to 0..15: the byte itself selects by its low nibble, and the
        // 16-bit shift brings each high nibble down (the bits shifted in from the next byte wrap away).
        v.selectFrom(tableBytes).intoArray(q, 0);
        v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().selectFrom(tableBytes)
                .intoArray(q, 16);
        scale[0] = scales[s.get(SHORT_LE, block) & mask];
        min[0] = 0f;
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        return L == 16 ? dot16(s, off, cols / 32, x, xOff) : super.dot(s, off, cols, x, xOff);
    }

    /** 512-bit vectors, one row, two blocks per step into two accumulators (two FMA chains). */
    private float dot16(MemorySegment s, long off, int blocks, float[] x, int xOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int b = 0;
        for (; b + 1 < blocks; b += 2) {
            long bo = off + (long) bytes * b;
            int xb = xOff + 32 * b;
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, bo + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, s, bo + bytes + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector p0 = q0.selectFrom(table).reinterpretAsFloats().mul(FloatVector.fromArray(F, x, xb));
            p0 = q0.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, x, xb + 16), p0);
            FloatVector p1 = q1.selectFrom(table).reinterpretAsFloats().mul(FloatVector.fromArray(F, x, xb + 32));
            p1 = q1.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, x, xb + 48), p1);
            a0 = p0.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, bo) & mask]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, bo + bytes) & mask]), a1);
        }
        if (b < blocks) {
            long bo = off + (long) bytes * b;
            int xb = xOff + 32 * b;
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, bo + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector p0 = q0.selectFrom(table).reinterpretAsFloats().mul(FloatVector.fromArray(F, x, xb));
            p0 = q0.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, x, xb + 16), p0);
            a0 = p0.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, bo) & mask]), a0);
        }
        FloatVector fold1 = a0.add(a1);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        if (L != 16) {
            super.dot2(s, off0, off1, cols, x, xOff, prep, out, outOff);
            return;
        }
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long d = (long) bytes * b;
            long o0 = off0 + d, o1 = off1 + d;
            int xb = xOff + 32 * b;
            FloatVector x0 = FloatVector.fromArray(F, x, xb), x1 = FloatVector.fromArray(F, x, xb + 16);
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector p0 = q0.selectFrom(table).reinterpretAsFloats().mul(x0);
            p0 = q0.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(x1, p0);
            FloatVector p1 = q1.selectFrom(table).reinterpretAsFloats().mul(x0);
            p1 = q1.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(x1, p1);
            a0 = p0.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o0) & mask]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o1) & mask]), a1);
        }
        FloatVector fold2 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold2.lane(0) + fold2.lane(1);
        FloatVector fold3 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold3.lane(0) + fold3.lane(1);
    }

    /**
     * 512-bit vectors, four rows: {@link #dot2}'s block for each, the activations loaded once for
     * all four. The block index is the loop variable and the row offsets linear in it, as in
     * {@link Q4_0Kernel}'s four-row loop, so C2 can hoist the segment bounds checks.
     */
    @Override
    public void dot4(MemorySegment s, long off0, long off1, long off2, long off3, int cols, float[] x, int xOff,
                     float[] prep, float[] out, int outOff) {
        if (L != 16) {
            super.dot4(s, off0, off1, off2, off3, cols, x, xOff, prep, out, outOff);
            return;
        }
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long d = (long) bytes * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            int xb = xOff + 32 * b;
            FloatVector x0 = FloatVector.fromArray(F, x, xb), x1 = FloatVector.fromArray(F, x, xb + 16);
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q2 = (IntVector) ByteVector.fromMemorySegment(B, s, o2 + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q3 = (IntVector) ByteVector.fromMemorySegment(B, s, o3 + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector p0 = q0.selectFrom(table).reinterpretAsFloats().mul(x0);
            p0 = q0.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(x1, p0);
            FloatVector p1 = q1.selectFrom(table).reinterpretAsFloats().mul(x0);
            p1 = q1.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(x1, p1);
            FloatVector p2 = q2.selectFrom(table).reinterpretAsFloats().mul(x0);
            p2 = q2.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(x1, p2);
            FloatVector p3 = q3.selectFrom(table).reinterpretAsFloats().mul(x0);
            p3 = q3.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(x1, p3);
            a0 = p0.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o0) & mask]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o1) & mask]), a1);
            a2 = p2.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o2) & mask]), a2);
            a3 = p3.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o3) & mask]), a3);
        }
        FloatVector fold4 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold4.lane(0) + fold4.lane(1);
        FloatVector fold5 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold5.lane(0) + fold5.lane(1);
        FloatVector fold6 = a2.add(a2.rearrange(Simd.FOLD_1));
        fold6 = fold6.add(fold6.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold6 = fold6.add(fold6.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 2] = fold6.lane(0) + fold6.lane(1);
        FloatVector fold7 = a3.add(a3.rearrange(Simd.FOLD_1));
        fold7 = fold7.add(fold7.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold7 = fold7.add(fold7.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 3] = fold7.lane(0) + fold7.lane(1);
    }

    @Override
    public int rowsPerCall() {
        return L == 16 ? 8 : 4;
    }

    /**
     * 512-bit vectors, eight rows: {@link #dot4}'s block for each of eight rows, x loaded once for
     * eight; more rows in flight for a product streaming from DRAM.
     */
    @Override
    public void dot8(MemorySegment s, long off0, long off1, long off2, long off3, long off4, long off5, long off6,
                     long off7, int cols, float[] x, int xOff, float[] prep, float[] out, int outOff) {
        if (L != 16) {
            super.dot8(s, off0, off1, off2, off3, off4, off5, off6, off7, cols, x, xOff, prep, out, outOff);
            return;
        }
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long d = (long) bytes * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            long o4 = off4 + d, o5 = off5 + d, o6 = off6 + d, o7 = off7 + d;
            int xb = xOff + 32 * b;
            FloatVector x0 = FloatVector.fromArray(F, x, xb), x1 = FloatVector.fromArray(F, x, xb + 16);
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q2 = (IntVector) ByteVector.fromMemorySegment(B, s, o2 + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q3 = (IntVector) ByteVector.fromMemorySegment(B, s, o3 + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q4 = (IntVector) ByteVector.fromMemorySegment(B, s, o4 + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q5 = (IntVector) ByteVector.fromMemorySegment(B, s, o5 + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q6 = (IntVector) ByteVector.fromMemorySegment(B, s, o6 + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q7 = (IntVector) ByteVector.fromMemorySegment(B, s, o7 + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector p0 = q0.selectFrom(table).reinterpretAsFloats().mul(x0);
            p0 = q0.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(x1, p0);
            FloatVector p1 = q1.selectFrom(table).reinterpretAsFloats().mul(x0);
            p1 = q1.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(x1, p1);
            FloatVector p2 = q2.selectFrom(table).reinterpretAsFloats().mul(x0);
            p2 = q2.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(x1, p2);
            FloatVector p3 = q3.selectFrom(table).reinterpretAsFloats().mul(x0);
            p3 = q3.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(x1, p3);
            FloatVector p4 = q4.selectFrom(table).reinterpretAsFloats().mul(x0);
            p4 = q4.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(x1, p4);
            FloatVector p5 = q5.selectFrom(table).reinterpretAsFloats().mul(x0);
            p5 = q5.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(x1, p5);
            FloatVector p6 = q6.selectFrom(table).reinterpretAsFloats().mul(x0);
            p6 = q6.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(x1, p6);
            FloatVector p7 = q7.selectFrom(table).reinterpretAsFloats().mul(x0);
            p7 = q7.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(x1, p7);
            a0 = p0.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o0) & mask]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o1) & mask]), a1);
            a2 = p2.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o2) & mask]), a2);
            a3 = p3.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o3) & mask]), a3);
            a4 = p4.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o4) & mask]), a4);
            a5 = p5.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o5) & mask]), a5);
            a6 = p6.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o6) & mask]), a6);
            a7 = p7.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o7) & mask]), a7);
        }
        FloatVector fold8 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold8 = fold8.add(fold8.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold8 = fold8.add(fold8.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 0] = fold8.lane(0) + fold8.lane(1);
        FloatVector fold9 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold9 = fold9.add(fold9.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold9 = fold9.add(fold9.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold9.lane(0) + fold9.lane(1);
        FloatVector fold10 = a2.add(a2.rearrange(Simd.FOLD_1));
        fold10 = fold10.add(fold10.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold10 = fold10.add(fold10.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 2] = fold10.lane(0) + fold10.lane(1);
        FloatVector fold11 = a3.add(a3.rearrange(Simd.FOLD_1));
        fold11 = fold11.add(fold11.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold11 = fold11.add(fold11.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 3] = fold11.lane(0) + fold11.lane(1);
        FloatVector fold12 = a4.add(a4.rearrange(Simd.FOLD_1));
        fold12 = fold12.add(fold12.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold12 = fold12.add(fold12.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 4] = fold12.lane(0) + fold12.lane(1);
        FloatVector fold13 = a5.add(a5.rearrange(Simd.FOLD_1));
        fold13 = fold13.add(fold13.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold13 = fold13.add(fold13.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 5] = fold13.lane(0) + fold13.lane(1);
        FloatVector fold14 = a6.add(a6.rearrange(Simd.FOLD_1));
        fold14 = fold14.add(fold14.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold14 = fold14.add(fold14.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 6] = fold14.lane(0) + fold14.lane(1);
        FloatVector fold15 = a7.add(a7.rearrange(Simd.FOLD_1));
        fold15 = fold15.add(fold15.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold15 = fold15.add(fold15.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 7] = fold15.lane(0) + fold15.lane(1);
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        if (L != 16) {
            super.axpy(s, off, cols, a, out, outOff);
            return;
        }
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long bo = off + (long) bytes * b;
            int ob = outOff + 32 * b;
            FloatVector ad = FloatVector.broadcast(F, a * scales[s.get(SHORT_LE, bo) & mask]);
            IntVector q = (IntVector) ByteVector.fromMemorySegment(B, s, bo + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            q.selectFrom(table).reinterpretAsFloats().fma(ad, FloatVector.fromArray(F, out, ob)).intoArray(out, ob);
            q.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats()
                    .fma(ad, FloatVector.fromArray(F, out, ob + 16)).intoArray(out, ob + 16);
        }
    }

    /**
     * 512-bit vectors, four rows into one output: a block's 32 outputs loaded and stored once for
     * the four rows. Each row's FMAs are {@link #axpy}'s, in row order, so the sums are bit for bit
     * those of four {@code axpy} calls ({@code MatVec.axpyRows} promises it).
     */
    @Override
    public void axpy4(MemorySegment s, long off0, long off1, long off2, long off3, int cols,
                      float a0, float a1, float a2, float a3, float[] out, int outOff) {
        if (L != 16) {
            super.axpy4(s, off0, off1, off2, off3, cols, a0, a1, a2, a3, out, outOff);
            return;
        }
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long d = (long) bytes * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            int ob = outOff + 32 * b;
            FloatVector lo = FloatVector.fromArray(F, out, ob), hi = FloatVector.fromArray(F, out, ob + 16);
            IntVector q;
            FloatVector ad;
            ad = FloatVector.broadcast(F, a0 * scales[s.get(SHORT_LE, o0) & mask]);
            q = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + header, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            lo = q.selectFrom(table).reinterpretAsFloats().fma(ad, lo);
            hi = q.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(ad, hi);
            ad = FloatVector.broadcast(F, a1 * scales[s.get(SHORT_LE, o1) & mask]);
            q = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + header, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            lo = q.selectFrom(table).reinterpretAsFloats().fma(ad, lo);
            hi = q.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(ad, hi);
            ad = FloatVector.broadcast(F, a2 * scales[s.get(SHORT_LE, o2) & mask]);
            q = (IntVector) ByteVector.fromMemorySegment(B, s, o2 + header, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            lo = q.selectFrom(table).reinterpretAsFloats().fma(ad, lo);
            hi = q.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(ad, hi);
            ad = FloatVector.broadcast(F, a3 * scales[s.get(SHORT_LE, o3) & mask]);
            q = (IntVector) ByteVector.fromMemorySegment(B, s, o3 + header, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            lo = q.selectFrom(table).reinterpretAsFloats().fma(ad, lo);
            hi = q.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().fma(ad, hi);
            lo.intoArray(out, ob);
            hi.intoArray(out, ob + 16);
        }
    }

    /** Each value is one float product {@code values[q] * scale}, as the scalar reference computes it. */
    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        if (L != 16) {
            super.dequant(s, off, cols, out, outOff);
            return;
        }
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long bo = off + (long) bytes * b;
            int ob = outOff + 32 * b;
            float d = scales[s.get(SHORT_LE, bo) & mask];
            IntVector q = (IntVector) ByteVector.fromMemorySegment(B, s, bo + header, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            q.selectFrom(table).reinterpretAsFloats().mul(d).intoArray(out, ob);
            q.lanewise(VectorOperators.LSHR, 4).selectFrom(table).reinterpretAsFloats().mul(d).intoArray(out, ob + 16);
        }
    }
}
