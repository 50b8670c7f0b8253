package io.flashllm.kernels.cpu;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.reference.ScalarReference;

import java.lang.foreign.MemorySegment;

/**
 * Fallback for machines whose vectors are too narrow for the vector kernels: decodes one block at a
 * time with the scalar reference into a per-thread buffer.
 */
final class ScalarKernel extends RowKernel {
    private static final int CHUNK = 256;
    private static final ThreadLocal<float[]> BUFFER = ThreadLocal.withInitial(() -> new float[CHUNK]);
    private final GgmlType type;

    ScalarKernel(GgmlType type) {
        this.type = type;
    }

    private int chunk() {
        return Math.max(type.blockSize, CHUNK / type.blockSize * type.blockSize);
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        float[] buf = BUFFER.get();
        MemorySegment row = s.asSlice(off, type.bytesFor(cols));
        int step = chunk();
        float sum = 0;
        for (int c = 0; c < cols; c += step) {
            int n = Math.min(step, cols - c);
            ScalarReference.dequantize(type, row, c, buf, 0, n);
            for (int i = 0; i < n; i++) sum += buf[i] * x[xOff + c + i];
        }
        return sum;
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        float[] buf = BUFFER.get();
        MemorySegment row = s.asSlice(off, type.bytesFor(cols));
        int step = chunk();
        for (int c = 0; c < cols; c += step) {
            int n = Math.min(step, cols - c);
            ScalarReference.dequantize(type, row, c, buf, 0, n);
            for (int i = 0; i < n; i++) out[outOff + c + i] += a * buf[i];
        }
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        ScalarReference.dequantize(type, s.asSlice(off, type.bytesFor(cols)), 0, out, outOff, cols);
    }
}
