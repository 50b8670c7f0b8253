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
     * One work item per rotated pair ({@code pairs = heads * half}). Interleaved (llama.cpp's GGUF
     * llama): elements 2i and 2i+1 rotate together; half-split (Hugging Face, qwen2): i and i+half.
     */
    public static void rotate(FloatArray v, FloatArray cos, FloatArray sin, IntArray pos, int pairs, int half,
                              int headDim, int interleaved) {
        for (@Parallel int p = 0; p < pairs; p++) {
            int h = p / half;
            int i = p - h * half;
            int t = pos.get(0) * half + i;
            float c = cos.get(t);
            float s = sin.get(t);
            int a = h * headDim + i;
            int b = a + half;
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
