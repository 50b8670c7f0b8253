package io.flashllm.kernels.bench;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * Synthetic weight matrices for benchmarks: random bytes with plausible f16 scales, filled
 * quickly (a random tile copied over the segment) because a benchmark wants a working set
 * larger than the last-level cache.
 */
public final class BenchTensors {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BenchTensors() {}

    /** {@code copies} independent {@code rows x cols} matrices of {@code type} in one allocation. */
    public static WeightTensor[] matrices(Arena arena, GgmlType type, int rows, int cols, int copies, long seed) {
        long bytes = type.bytesFor((long) rows * cols);
        MemorySegment all = arena.allocate(bytes * copies, 4096);
        fill(all, type, seed);
        WeightTensor[] out = new WeightTensor[copies];
        for (int i = 0; i < copies; i++) {
            out[i] = new WeightTensor("bench" + i, type, new long[]{cols, rows}, all.asSlice(i * bytes, bytes));
        }
        return out;
    }

    static void fill(MemorySegment s, GgmlType type, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int tileBytes = 1 << 20;
        MemorySegment tile = Arena.ofAuto().allocate(tileBytes, 64);
        switch (type) {
            case F32 -> {
                for (int i = 0; i < tileBytes / 4; i++) tile.set(FLOAT_LE, 4L * i, (float) (rnd.nextDouble() * 2 - 1));
            }
            case F16 -> {
                for (int i = 0; i < tileBytes / 2; i++) {
                    tile.set(SHORT_LE, 2L * i, Float.floatToFloat16((float) (rnd.nextDouble() * 2 - 1)));
                }
            }
            case BF16 -> {
                for (int i = 0; i < tileBytes / 2; i++) {
                    tile.set(SHORT_LE, 2L * i, (short) (Float.floatToIntBits((float) (rnd.nextDouble() * 2 - 1)) >>> 16));
                }
            }
            default -> {
                for (int i = 0; i < tileBytes; i++) tile.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
            }
        }
        long size = s.byteSize();
        for (long off = 0; off < size; off += tileBytes) {
            // shift the tile by a block-unaligned amount per copy so copies differ
            MemorySegment.copy(tile, 0, s, off, Math.min(tileBytes, size - off));
        }
        if (type.quantized()) {
            // Scales vary per block over a realistic range (0.001..0.05, a few f16 exponents), so
            // kernels that look scales up in a table (Simd.HALF) touch as many lines as on real weights.
            short[] scales = new short[4096];
            for (int i = 0; i < scales.length; i++) scales[i] = Float.floatToFloat16((float) (0.001 + rnd.nextDouble() * 0.049));
            int i = 0;
            for (long bo = 0; bo < size; bo += type.blockBytes, i = (i + 1) & (scales.length - 1)) {
                short scale = scales[i];
                switch (type) {
                    case Q8_0, Q4_0, Q5_0, IQ4_NL, IQ4_XS -> s.set(SHORT_LE, bo, scale);
                    case Q4_1, Q5_1, Q4_K, Q5_K -> { // d, then m or dmin
                        s.set(SHORT_LE, bo, scale);
                        s.set(SHORT_LE, bo + 2, scales[(i + 1) & (scales.length - 1)]);
                    }
                    case Q6_K -> s.set(SHORT_LE, bo + 208, scale);
                    case Q2_K -> { // d, dmin after the scales and q
                        s.set(SHORT_LE, bo + 80, scale);
                        s.set(SHORT_LE, bo + 82, scales[(i + 1) & (scales.length - 1)]);
                    }
                    case Q3_K -> s.set(SHORT_LE, bo + 108, scale);
                    // E8M0 exponents 2^-10..2^-3 (times values up to 12): gpt-oss's experts' range.
                    case MXFP4 -> s.set(ValueLayout.JAVA_BYTE, bo, (byte) (118 + (i & 7)));
                    default -> throw new IllegalStateException(type.toString());
                }
            }
        }
    }
}
