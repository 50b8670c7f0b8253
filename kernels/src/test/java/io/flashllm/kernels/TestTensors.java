package io.flashllm.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/** Random tensors of every type, with sane f16 scales so no block decodes to NaN or Inf. */
final class TestTensors {
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TestTensors() {}

    static WeightTensor random(Arena arena, GgmlType type, int rows, int cols, Random rnd) {
        long bytes = type.bytesFor((long) rows * cols);
        MemorySegment s = arena.allocate(bytes, 64);
        switch (type) {
            case F32 -> {
                for (long i = 0; i < (long) rows * cols; i++) s.set(FLOAT_LE, 4 * i, (float) rnd.nextGaussian());
            }
            case F16 -> {
                for (long i = 0; i < (long) rows * cols; i++) {
                    s.set(SHORT_LE, 2 * i, Float.floatToFloat16((float) rnd.nextGaussian()));
                }
            }
            case BF16 -> {
                for (long i = 0; i < (long) rows * cols; i++) {
                    s.set(SHORT_LE, 2 * i, (short) (Float.floatToIntBits((float) rnd.nextGaussian()) >>> 16));
                }
            }
            default -> {
                byte[] raw = new byte[(int) bytes];
                rnd.nextBytes(raw);
                MemorySegment.copy(MemorySegment.ofArray(raw), 0, s, 0, bytes);
                long blocks = (long) rows * cols / type.blockSize;
                for (long b = 0; b < blocks; b++) {
                    long bo = b * type.blockBytes;
                    switch (type) {
                        case Q8_0, Q4_0, Q5_0 -> s.set(SHORT_LE, bo, f16(0.001f + rnd.nextFloat() * 0.05f));
                        case Q4_1, Q5_1 -> {
                            s.set(SHORT_LE, bo, f16(0.001f + rnd.nextFloat() * 0.05f));
                            s.set(SHORT_LE, bo + 2, f16(-0.5f + rnd.nextFloat()));
                        }
                        case Q4_K, Q5_K -> {
                            s.set(SHORT_LE, bo, f16(0.001f + rnd.nextFloat() * 0.01f));
                            s.set(SHORT_LE, bo + 2, f16(0.001f + rnd.nextFloat() * 0.01f));
                        }
                        case Q6_K -> s.set(SHORT_LE, bo + 208, f16(0.0005f + rnd.nextFloat() * 0.002f));
                        case Q2_K -> {
                            s.set(SHORT_LE, bo + 80, f16(0.001f + rnd.nextFloat() * 0.01f));
                            s.set(SHORT_LE, bo + 82, f16(0.001f + rnd.nextFloat() * 0.01f));
                        }
                        case Q3_K -> s.set(SHORT_LE, bo + 108, f16(0.0005f + rnd.nextFloat() * 0.002f));
                        // grid values up to 127 (times sub-block scales up to 32 for IQ4_XS)
                        case IQ4_NL -> s.set(SHORT_LE, bo, f16(0.0001f + rnd.nextFloat() * 0.0005f));
                        case IQ4_XS -> s.set(SHORT_LE, bo, f16(0.00001f + rnd.nextFloat() * 0.00005f));
                        // E8M0 scales 2^-10..2^5: values from 2^-10 up to 384, every nibble random
                        case MXFP4 -> s.set(ValueLayout.JAVA_BYTE, bo, (byte) (118 + rnd.nextInt(16)));
                        default -> throw new AssertionError(type);
                    }
                }
            }
        }
        return new WeightTensor("t_" + type, type, new long[]{cols, rows}, s);
    }

    static short f16(float v) {
        return Float.floatToFloat16(v);
    }

    static float[] gaussian(int n, Random rnd) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    /** Columns to test for a type: several block counts; odd counts for the unblocked types. */
    static int[] colsFor(GgmlType t) {
        return t.quantized()
                ? new int[]{t.blockSize, 2 * t.blockSize, 3 * t.blockSize, 5 * t.blockSize, 8 * t.blockSize}
                : new int[]{1, 7, 16, 33, 100, 256, 515, 2051}; // 2051: two F16 conversion chunks and a remainder
    }
}
