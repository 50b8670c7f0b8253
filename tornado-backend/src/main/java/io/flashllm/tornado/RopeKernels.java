package io.flashllm.tornado;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Rotary position embedding of {@code heads} heads in place. The cos/sin tables ({@code [position][half]})
 * are computed once on the host in double, as the CPU computes them, so both sides rotate by the
 * same angles; the position comes from a device array because it changes every step while the
 * compiled task stays the same.
 */
public final class RopeKernels {
    private RopeKernels() {}

    /**
     * One work item per rotated pair ({@code pairs = heads * halfRot}, halfRot = rotary dims / 2; the kernel's
     * and its parameters' names avoid OpenCL type and builtin names ({@code half}, {@code cos}, {@code sin},
     * {@code rotate}): the generated kernel keeps them, and a clash fails or crashes the device compiler).
     * Interleaved (llama.cpp's GGUF llama): elements 2i and 2i+1 rotate together; half-split
     * (Hugging Face, qwen2): i and i+halfRot.
     */
    public static void applyRope(FloatArray v, FloatArray cosTable, FloatArray sinTable, IntArray pos, int pairs,
                                 int halfRot, int headDim, int interleaved) {
        for (@Parallel int p = 0; p < pairs; p++) {
            int h = p / halfRot;
            int i = p - h * halfRot;
            int t = pos.get(0) * halfRot + i;
            float c = cosTable.get(t);
            float s = sinTable.get(t);
            int a = h * headDim + i;
            int b = a + halfRot;
            if (interleaved == 1) {
                a = h * headDim + 2 * i;
                b = a + 1;
            }
            float x0 = v.get(a);
            float x1 = v.get(b);
            v.set(a, x0 * c - x1 * s);
            v.set(b, x0 * s + x1 * c);
        }
    }
}
