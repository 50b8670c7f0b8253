package io.flashllm.tornado;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;
import uk.ac.manchester.tornado.api.types.arrays.Int8Array;

/**
 * {@code out[r] = W[r] . x} with the weights in their file encoding on the device, dequantized as
 * they are read: one work item per row, which is all a decode step (one vector) can use. Rows are
 * {@code cols} wide; Q8_0 rows are {@code cols / 32} blocks, each a half scale and 32 signed bytes,
 * kept as two arrays so every element is a plain typed load. Halfs travel as their bit patterns
 * ({@link ShortArray}) and are decoded by {@link Halfs#decode} with its table {@code h}.
 */
public final class MatVecKernels {
    /** Elements per Q8_0 block (ggml's QK8_0). */
    public static final int Q8_BLOCK = 32;

    private MatVecKernels() {}

    public static void f32(FloatArray w, FloatArray x, FloatArray out, int rows, int cols) {
        for (@Parallel int r = 0; r < rows; r++) {
            int base = r * cols;
            float sum = 0f;
            for (int c = 0; c < cols; c++) {
                sum += w.get(base + c) * x.get(c);
            }
            out.set(r, sum);
        }
    }

    public static void f16(ShortArray w, FloatArray h, FloatArray x, FloatArray out, int rows, int cols) {
        for (@Parallel int r = 0; r < rows; r++) {
            int base = r * cols;
            float sum = 0f;
            for (int c = 0; c < cols; c++) {
                sum += Halfs.decode(w.get(base + c), h) * x.get(c);
            }
            out.set(r, sum);
        }
    }

    public static void q8(Int8Array quants, ShortArray scales, FloatArray h, FloatArray x, FloatArray out, int rows,
                          int cols) {
        for (@Parallel int r = 0; r < rows; r++) {
            int blocks = cols / 32;
            float sum = 0f;
            for (int b = 0; b < blocks; b++) {
                int block = r * blocks + b;
                int q = block * 32;
                int xi = b * 32;
                // Integer quants times float activations, summed per block, scaled once per block.
                float part = 0f;
                for (int j = 0; j < 32; j++) {
                    part += quants.get(q + j) * x.get(xi + j);
                }
                sum += part * Halfs.decode(scales.get(block), h);
            }
            out.set(r, sum);
        }
    }
}
