package io.flashllm.kernels;

import io.flashllm.kernels.cpu.PanelKernel;
import io.flashllm.kernels.cpu.PanelKernel256;
import io.flashllm.kernels.cpu.TileDot;

import java.lang.foreign.Arena;
import java.util.Collection;
import java.util.EnumSet;

/**
 * Gets every kernel of the given types compiled by C2, for kernel benchmarks ({@code KernelBench})
 * that then measure each type. Until C2 compiles them, vector code runs in the interpreter or C1,
 * where every vector operation allocates, and a matvec is a thousand times slower.
 *
 * <p>Not for a model about to serve: warming several types through the same products leaves their
 * call sites megamorphic, C2 then stops inlining the row kernels there, and a model decoded 25%
 * slower afterwards. A model warms up by running itself ({@code ModelWarmup} in the engine).
 */
public final class KernelWarmup {
    /** Calls per kernel method: with the loops' back-edges, above C2's compile thresholds. */
    private static final int CALLS = 3_000;
    private static volatile float sink;

    private KernelWarmup() {}

    /** Runs dot, dot2, dot4, axpy, dequantize and a small batched product of each type, and the batched tile, enough times to reach C2; returns milliseconds spent. */
    public static long run(Collection<GgmlType> types) {
        long t0 = System.nanoTime();
        EnumSet<GgmlType> all = EnumSet.of(GgmlType.F32);
        all.addAll(types);
        int cols = 2048; // rows as long as real ones, so C2 compiles with a realistic loop profile
        float[] x = new float[cols];
        float[] out = new float[cols];
        for (int i = 0; i < cols; i++) x[i] = (i % 7 - 3) * 0.01f;
        // A shared arena, as every model's weights and caches come from: a segment's liveness check
        // differs by session kind (a confined one also checks the owner thread), and C2 hoists it out
        // of the kernels' loops as a predicate from the profile. Warmed on confined memory, Q8_0's
        // dot8x16 trapped on that predicate at its first shared-memory product, then ran
        // interpreted for a second or more until recompiled (DeoptLoopsTest on the Xeon of session 51).
        try (Arena arena = Arena.ofShared()) {
            for (GgmlType t : all) {
                // Through the public entry points, as products are called. Zero bytes decode to
                // finite values in every type (zero scales); 16 distinct rows, as in a real product.
                int rows = 16;
                WeightTensor w = new WeightTensor("warmup-" + t, t, new long[] {cols, rows},
                        arena.allocate(rows * t.bytesFor(cols), 64));
                int[] pick = new int[rows];
                for (int r = 0; r < rows; r++) pick[r] = (r * 7) % rows;
                float[] rowsOut = new float[rows];
                // A decode step batched across slots (four to seven rows): MatVec.matmul's small-batch path.
                float[] xBatch = new float[5 * cols], outBatch = new float[5 * rows];
                for (int i = 0; i < CALLS / 16; i++) MatVec.matmul(null, w, xBatch, 5, outBatch);
                sink += outBatch[0];
                for (int i = 0; i < CALLS / 4; i++) {
                    MatVec.matvec(null, w, x, rowsOut);
                    MatVec.matvecRows(null, w, pick, rows, x, rowsOut);
                    MatVec.axpy(w, i % rows, 0.5f, out);
                    Dequant.row(w, i % rows, out, 0);
                    sink += MatVec.dot(w, i % rows, x, 0);
                }
                sink += rowsOut[0] + out[0];
            }
        }
        float[] tile = new float[4 * 64];
        float[] xs = new float[4 * 64];
        float[] res = new float[16];
        for (int i = 0; i < CALLS; i++) {
            TileDot.dot4x4(tile, 64, xs, 0, 4, 0, res);
            TileDot.dot4(tile, 64, xs, 0, 4, 0, res);
            TileDot.dot4x1(tile, 64, xs, 1, 4, 0, res);
            res[0] += TileDot.dot(tile, 0, 64, xs, 0);
        }
        sink += res[0];
        if (PanelKernel.usable() || PanelKernel256.usable()) warmPanels();
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /**
     * The prompt path: the panel kernels (each call a short column block, many calls) and then
     * {@link MatMul} itself on a small F32 matrix, so its transposes and loop bodies are compiled too.
     */
    private static void warmPanels() {
        int kLen = 64, p = 64;
        float[] panel = new float[PanelKernel.ROWS * kLen];
        float[] xT = new float[kLen * p];
        float[] acc = new float[PanelKernel.ROWS * p];
        for (int i = 0; i < CALLS; i++) {
            if (PanelKernel.usable()) {
                PanelKernel.rows12x32(panel, kLen, xT, 0, p, acc, 0, (i & 1) == 0);
                PanelKernel.rows12x32(panel, kLen, xT, 32, p, acc, 32, (i & 1) == 0);
                PanelKernel.rows12x16(panel, kLen, xT, 0, p, acc, 0, (i & 1) == 0);
            } else {
                PanelKernel256.rows6x16(panel, kLen, xT, 0, p, acc, 0, (i & 1) == 0);
                PanelKernel256.rows6x16(panel, kLen, xT, 16, p, acc, 16, (i & 1) == 0);
                PanelKernel256.rows6x8(panel, kLen, xT, 0, p, acc, 0, (i & 1) == 0);
            }
        }
        int rows = 2 * PanelKernel.ROWS + 1, cols = 256, batch = 40;
        try (Arena arena = Arena.ofShared()) {
            WeightTensor w = new WeightTensor("warmup", GgmlType.F32, new long[] {cols, rows},
                    arena.allocate((long) rows * cols * Float.BYTES, 64));
            float[] x = new float[batch * cols];
            float[] out = new float[batch * rows];
            for (int i = 0; i < CALLS / 6; i++) MatMul.matmul(null, w, x, batch, out);
            sink += acc[0] + out[0];
        }
    }
}
