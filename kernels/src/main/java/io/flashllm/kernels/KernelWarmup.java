package io.flashllm.kernels;

import io.flashllm.kernels.cpu.RowKernel;
import io.flashllm.kernels.cpu.TileDot;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collection;
import java.util.EnumSet;

/**
 * Gets the kernels compiled by C2 before the first request. Until then vector code runs in the
 * interpreter or C1, where every vector operation allocates, and a matvec is a thousand times
 * slower: without a warm-up the first tokens of a freshly started server would take seconds. Call
 * once at model load with the weight types the model uses (F32 is always included, for norms).
 */
public final class KernelWarmup {
    /** Calls per kernel method: with the loops' back-edges, above C2's compile thresholds. */
    private static final int CALLS = 3_000;
    private static volatile float sink;

    private KernelWarmup() {}

    /** Runs dot, dot2, dot4, axpy and dequantize of each type, and the batched tile, enough times to reach C2; returns milliseconds spent. */
    public static long run(Collection<GgmlType> types) {
        long t0 = System.nanoTime();
        EnumSet<GgmlType> all = EnumSet.of(GgmlType.F32);
        all.addAll(types);
        int cols = 2048; // rows as long as real ones, so C2 compiles with a realistic loop profile
        float[] x = new float[cols];
        float[] out = new float[cols];
        for (int i = 0; i < cols; i++) x[i] = (i % 7 - 3) * 0.01f;
        try (Arena arena = Arena.ofConfined()) {
            for (GgmlType t : all) {
                // Zero bytes decode to finite values in every type (zero scales), so no block is NaN.
                // Four distinct rows, as in a real product: C2's profiled loop predicates assume
                // what the warm-up showed (e.g. equal offsets) and otherwise trap and recompile
                // the large multi-row kernels on the first real call.
                long rb = t.bytesFor(cols);
                MemorySegment s = arena.allocate(4 * rb, 64);
                RowKernel k = RowKernel.forType(t);
                float acc = 0;
                float[] prep = new float[k.prepSize(cols)];
                for (int i = 0; i < CALLS; i++) {
                    long r = (i & 3) * rb;
                    acc += k.dot(s, r, cols, x, 0);
                    k.prepare(x, 0, cols, prep);
                    k.dot2(s, r, (3 - (i & 3)) * rb, cols, x, 0, prep, out, 0);
                    k.dot4(s, 0, rb, 2 * rb, 3 * rb, cols, x, 0, prep, out, 0);
                    k.axpy(s, r, cols, 0.5f, out, 0);
                    k.dequant(s, r, cols, out, 0);
                }
                sink = acc + out[0];
            }
        }
        float[] tile = new float[4 * 64];
        float[] xs = new float[4 * 64];
        float[] res = new float[16];
        for (int i = 0; i < CALLS; i++) {
            TileDot.dot4x4(tile, 64, xs, 0, 4, 0, res);
            TileDot.dot4(tile, 64, xs, 0, 4, 0, res);
            res[0] += TileDot.dot(tile, 0, 64, xs, 0);
        }
        sink += res[0];
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
