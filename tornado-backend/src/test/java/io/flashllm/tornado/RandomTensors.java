package io.flashllm.tornado;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/** Random weights in the file encodings (little-endian, as mapped from a GGUF file) and random vectors. */
final class RandomTensors {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private RandomTensors() {}

    static WeightTensor matrix(GgmlType type, int rows, int cols, Random rnd) {
        MemorySegment s = Arena.ofAuto().allocate(type.bytesFor((long) rows * cols), 64);
        switch (type) {
            case F32 -> {
                for (long i = 0; i < (long) rows * cols; i++) s.set(FLOAT_LE, 4 * i, rnd.nextFloat() * 2 - 1);
            }
            case F16 -> {
                for (long i = 0; i < (long) rows * cols; i++) {
                    s.set(SHORT_LE, 2 * i, Float.floatToFloat16(rnd.nextFloat() * 2 - 1));
                }
            }
            case Q8_0 -> {
                long blocks = (long) rows * cols / 32;
                for (long b = 0; b < blocks; b++) {
                    s.set(SHORT_LE, 34 * b, Float.floatToFloat16(0.001f + rnd.nextFloat() * 0.02f));
                    for (int j = 0; j < 32; j++) s.set(ValueLayout.JAVA_BYTE, 34 * b + 2 + j, (byte) (rnd.nextInt(255) - 127));
                }
            }
            default -> throw new IllegalArgumentException("no random " + type);
        }
        return new WeightTensor("random", type, new long[] {cols, rows}, s);
    }

    static float[] vector(int n, Random rnd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = rnd.nextFloat() * 2 - 1;
        return v;
    }

    static FloatArray device(float[] v) {
        return FloatArray.fromArray(v);
    }

    /** max |a - b| / max(1, max |b|): the error measure of every kernel test. */
    static float relativeError(FloatArray a, float[] b) {
        float scale = 1f, worst = 0f;
        for (int i = 0; i < b.length; i++) {
            scale = Math.max(scale, Math.abs(b[i]));
            float d = Math.abs(a.get(i) - b[i]);
            if (!(d <= worst)) worst = Float.isNaN(d) ? Float.POSITIVE_INFINITY : d;
        }
        return worst / scale;
    }
}
