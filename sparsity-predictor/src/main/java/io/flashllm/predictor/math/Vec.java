package io.flashllm.predictor.math;

import io.flashllm.kernels.cpu.Simd;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Vector API inner products and axpys over float arrays and little-endian F32 segments: the only
 * arithmetic the predictor's training and runtime need. Each has a scalar tail; tests compare them
 * with plain loops.
 */
public final class Vec {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Bytes in the same lane count as a float vector, widened to floats by a single conversion. */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    // Lanes summed in one fixed order, the same in every JIT tier, as the kernels sum them
    // (io.flashllm.kernels.cpu.Simd.FOLD_1): reduceLanes(ADD) adds in a different order once C2
    // has compiled it, and a guess near its threshold could then differ from run to run.
    private static final VectorShuffle<Float> FOLD_1 = Simd.foldShuffle(S, 1), FOLD_2 = Simd.foldShuffle(S, 2),
            FOLD_3 = Simd.foldShuffle(S, 3);
    private static final VectorMask<Float> FOLD_2_ON = Simd.foldOn(S, 2), FOLD_3_ON = Simd.foldOn(S, 3);
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Vec() {}

    /** a[aOff..aOff+n) · b[bOff..bOff+n). */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= 2 * L) {
            FloatVector acc0 = FloatVector.zero(S);
            FloatVector acc1 = FloatVector.zero(S);
            int bound = n - 2 * L;
            for (; i <= bound; i += 2 * L) {
                acc0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc0);
                acc1 = FloatVector.fromArray(S, a, aOff + i + L).fma(FloatVector.fromArray(S, b, bOff + i + L), acc1);
            }
            FloatVector fold1 = acc0.add(acc1);
            fold1 = fold1.add(fold1.rearrange(FOLD_1));
            fold1 = fold1.add(fold1.rearrange(FOLD_2), FOLD_2_ON);
            fold1 = fold1.add(fold1.rearrange(FOLD_3), FOLD_3_ON);
            sum = fold1.lane(0) + fold1.lane(1);
        }
        for (; i + L <= n; i += L) {
            FloatVector fold2 = FloatVector.fromArray(S, a, aOff + i).mul(FloatVector.fromArray(S, b, bOff + i));
            fold2 = fold2.add(fold2.rearrange(FOLD_1));
            fold2 = fold2.add(fold2.rearrange(FOLD_2), FOLD_2_ON);
            fold2 = fold2.add(fold2.rearrange(FOLD_3), FOLD_3_ON);
            sum += fold2.lane(0) + fold2.lane(1);
        }
        for (; i < n; i++) sum += a[aOff + i] * b[bOff + i];
        return sum;
    }

    /** y[yOff..yOff+n) += a · x[xOff..xOff+n). */
    public static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        FloatVector va = FloatVector.broadcast(S, a);
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += a * x[xOff + i];
    }

    /** Row of little-endian F32 values at byte {@code off} of {@code s}, dotted with x[xOff..xOff+n). */
    public static float dot(MemorySegment s, long off, float[] x, int xOff, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= 2 * L) {
            FloatVector acc0 = FloatVector.zero(S);
            FloatVector acc1 = FloatVector.zero(S);
            int bound = n - 2 * L;
            for (; i <= bound; i += 2 * L) {
                acc0 = FloatVector.fromMemorySegment(S, s, off + 4L * i, ByteOrder.LITTLE_ENDIAN)
                        .fma(FloatVector.fromArray(S, x, xOff + i), acc0);
                acc1 = FloatVector.fromMemorySegment(S, s, off + 4L * (i + L), ByteOrder.LITTLE_ENDIAN)
                        .fma(FloatVector.fromArray(S, x, xOff + i + L), acc1);
            }
            FloatVector fold3 = acc0.add(acc1);
            fold3 = fold3.add(fold3.rearrange(FOLD_1));
            fold3 = fold3.add(fold3.rearrange(FOLD_2), FOLD_2_ON);
            fold3 = fold3.add(fold3.rearrange(FOLD_3), FOLD_3_ON);
            sum = fold3.lane(0) + fold3.lane(1);
        }
        for (; i < n; i++) sum += s.get(F32_LE, off + 4L * i) * x[xOff + i];
        return sum;
    }

    /** Row of signed bytes at byte {@code off} of {@code s}, dotted with x[xOff..xOff+n) (scale not applied). */
    public static float dotQ8(MemorySegment s, long off, float[] x, int xOff, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= L) {
            FloatVector acc = FloatVector.zero(S);
            for (; i + L <= n; i += L) {
                FloatVector q = (FloatVector) ByteVector.fromMemorySegment(B, s, off + i, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2F, S, 0);
                acc = q.fma(FloatVector.fromArray(S, x, xOff + i), acc);
            }
            FloatVector fold4 = acc.add(acc.rearrange(FOLD_1));
            fold4 = fold4.add(fold4.rearrange(FOLD_2), FOLD_2_ON);
            fold4 = fold4.add(fold4.rearrange(FOLD_3), FOLD_3_ON);
            sum = fold4.lane(0) + fold4.lane(1);
        }
        for (; i < n; i++) sum += s.get(ValueLayout.JAVA_BYTE, off + i) * x[xOff + i];
        return sum;
    }

    /** Sum of squares of x[off..off+n), in double for stability over long vectors. */
    public static double norm2(float[] x, int off, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) x[off + i] * x[off + i];
        return s;
    }
}
