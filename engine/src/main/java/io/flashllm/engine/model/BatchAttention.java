package io.flashllm.engine.model;

import io.flashllm.kernels.Ops;
import jdk.incubator.vector.FloatVector;

import java.util.Arrays;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.L;

/**
 * A prompt batch's causal attention over one kv head, as two matrix products: the scores
 * {@code Q K^T} and the outputs {@code softmax(scores) V}, each taken a tile of {@link #Q} queries at a
 * time so that every key or value vector loaded serves four multiply-adds.
 *
 * <p>The batch's queries are its rows' query heads of this kv head, row by row (row b, head j is
 * query {@code b * heads + j}); row b sits at position {@code start + b} and attends to the positions
 * before it and its own (within the layer's window, if any). The positions go {@link #CHUNK} at a time:
 * a chunk's keys and values are widened to floats once for all queries, the values row by row, the keys
 * transposed a block of {@link #P} positions at a time, so that one vector holds P positions' values of
 * one dimension. A score tile then needs no horizontal sums: query i's scores over a block are
 * {@code sum_d q_i[d] * keysT[d]}, a broadcast and a multiply-add per dimension, P positions a lane each.
 * The rows attended as {@link Attention#attendGroup} took a fold per score, or four vector steps per
 * block of them, on top of the multiply-adds.
 *
 * <p>The softmax runs across chunks: each query keeps the largest score so far and the sum of its
 * exponentials, and when a chunk raises the largest, what the query summed before (its output and its
 * sum) is scaled down by the difference; the output is divided by the sum (plus a sink's term) at the
 * end. So a chunk's panels stay the same size (in L2) whatever the context.
 *
 * <p>Queries of one tile end (and, under a window, start) at different positions when the tile spans
 * rows: the scores are computed over the union of their spans and each query reads only its own; the
 * values of the positions all of them attend to go through the tile, the few at the edges query by
 * query, so no query's output takes a value from outside its span. The sums run in another order than
 * the row-by-row forms', so the results agree with them to rounding, not to the bit.
 */
final class BatchAttention {
    /** Positions per key block, one a lane. */
    static final int P = L;
    /** Queries per tile. */
    static final int Q = 4;
    /** Positions per chunk: keys and values of 128-wide heads, widened, take 512 KiB. */
    static final int CHUNK = 512;

    /** A chunk's keys and values widened, one tile's scores and the queries' running softmax; a thread's own, reused. */
    private static final class Panels {
        /** Block k's dimension d: {@code keysT[(k * headDim + d) * P + p]} is position {@code c0 + k * P + p}, c0 the chunk's first. */
        float[] keysT = new float[0];
        /** Position t's value at {@code values[(t - c0) * headDim ..]}. */
        float[] values = new float[0];
        /** One block of widened key rows, on their way to {@link #keysT}. */
        float[] rows = new float[0];
        /** The tile's scores: query slot s, position t at {@code scores[s * STRIDE + t - c0]}. */
        final float[] scores = new float[Q * CHUNK];
        /** Per query of the batch: the largest score so far, and the sum of exponentials relative to it. */
        float[] max = new float[0], sum = new float[0];
        /** Per slot of the tile: the new largest score, the factor that rescales the query's earlier sums, its terms' sum. */
        final float[] slotMax = new float[Q], slotScale = new float[Q], slotTerms = new float[Q];
        int headDim;
    }

    /** The scores' stride between slots. */
    private static final int STRIDE = CHUNK;

    private static final ThreadLocal<Panels> PANELS = ThreadLocal.withInitial(Panels::new);

    private BatchAttention() {}

    /** Whether heads of this size go through the matrix products: whole vectors. */
    static boolean applies(int headDim) {
        return headDim % L == 0;
    }

    /**
     * The attention of {@code count} rows of a prompt batch over kv head {@code kvHead} of {@code layer}:
     * row b is at position {@code start + b} and has {@code heads} query heads at {@code q[qOff + b * qStride
     * + j * headDim ..]}, j = 0..heads-1, whose outputs go to the same offsets of {@code out}. Head j's scores
     * are scaled by {@code scale}, soft-capped when {@code softcap} > 0, and, with {@code sinks}, its softmax
     * has the term {@code sinks[sinkOff + j]} too (see {@link Attention#attendGroup}). With {@code window} > 0
     * row b attends to its last {@code window} positions only. The rows' keys and values must be in the
     * cache; heads must be whole vectors ({@link #applies}).
     */
    static void attend(KvCache cache, int layer, int kvHead, int headDim, int heads, float[] q, int qOff, int qStride,
                       int count, int start, int window, float scale, float softcap, float[] sinks, int sinkOff,
                       float[] out) {
        if (!applies(headDim)) throw new IllegalArgumentException("heads of " + headDim + " are not whole vectors");
        int n = count * heads;
        Panels w = PANELS.get();
        if (w.max.length < n) {
            w.max = new float[n];
            w.sum = new float[n];
        }
        Arrays.fill(w.max, 0, n, Float.NEGATIVE_INFINITY);
        Arrays.fill(w.sum, 0, n, 0f);
        for (int i = 0; i < n; i++) {
            int o = offset(i, heads, qOff, qStride, headDim);
            Arrays.fill(out, o, o + headDim, 0f);
        }
        int last = start + count - 1;
        for (int c0 = firstOf(start, window); c0 <= last; c0 += CHUNK) {
            int c1 = Math.min(last, c0 + CHUNK - 1);
            prepare(w, cache, layer, kvHead, headDim, c0, c1);
            attendChunk(w, heads, q, qOff, qStride, n, start, window, c0, c1, scale, softcap, out);
        }
        for (int i = 0; i < n; i++) {
            // a sink far above every score overflows to infinity here, and the output to 0: its limit
            float sink = sinks != null ? (float) Math.exp(sinks[sinkOff + i % heads] - w.max[i]) : 0f;
            Ops.scale(out, offset(i, heads, qOff, qStride, headDim), headDim, 1f / (w.sum[i] + sink));
        }
    }

    /** Widens positions c0..c1's keys (transposed in blocks) and values into {@code w}. */
    private static void prepare(Panels w, KvCache cache, int layer, int kvHead, int headDim, int c0, int c1) {
        int positions = c1 - c0 + 1;
        int blocks = (positions + P - 1) / P;
        int size = blocks * P * headDim;
        if (w.keysT.length < size) {
            w.keysT = new float[size];
            w.values = new float[size];
        }
        if (w.rows.length < P * headDim) w.rows = new float[P * headDim];
        float[] rows = w.rows, keysT = w.keysT;
        for (int k = 0; k < blocks; k++) {
            int t0 = c0 + k * P, m = Math.min(P, c1 - t0 + 1);
            cache.widenRows(false, layer, kvHead, t0, m, rows, 0);
            // a last block's missing rows give lanes that no query reads; zeros keep them finite
            if (m < P) Arrays.fill(rows, m * headDim, P * headDim, 0f);
            int base = k * P * headDim;
            for (int p = 0; p < P; p++) {
                int r = p * headDim;
                for (int d = 0; d < headDim; d++) keysT[base + d * P + p] = rows[r + d];
            }
        }
        cache.widenRows(true, layer, kvHead, c0, positions, w.values, 0);
        w.headDim = headDim;
    }

    /** The n queries' scores over positions c0..c1 (the chunk in {@code w}), added to their running softmax and outputs. */
    private static void attendChunk(Panels w, int heads, float[] q, int qOff, int qStride, int n, int start, int window,
                                    int c0, int c1, float scale, float softcap, float[] out) {
        int hd = w.headDim;
        float[] scores = w.scores;
        for (int i0 = 0; i0 < n; i0 += Q) {
            int real = Math.min(Q, n - i0);
            // slots past the last query repeat it: the same bits computed and stored twice
            int i3 = i0 + Math.min(3, real - 1);
            // rows only grow along the queries, so the spans' ends do too: the first query's is the least
            int lo0 = Math.max(c0, firstOf(start + i0 / heads, window)), hi0 = Math.min(c1, start + i0 / heads);
            int lo3 = Math.max(c0, firstOf(start + i3 / heads, window)), hi3 = Math.min(c1, start + i3 / heads);
            if (lo0 > hi3) continue; // no query of the tile attends to this chunk
            int o0 = offset(i0, heads, qOff, qStride, hd), o1 = offset(i0 + Math.min(1, real - 1), heads, qOff, qStride, hd);
            int o2 = offset(i0 + Math.min(2, real - 1), heads, qOff, qStride, hd), o3 = offset(i3, heads, qOff, qStride, hd);
            int kFrom = (lo0 - c0) / P, kTo = (hi3 - c0) / P;
            int k = kFrom;
            for (; k + 1 <= kTo; k += 2) scoreTile2(w.keysT, k * P * hd, hd, q, o0, o1, o2, o3, scale, scores, STRIDE, k * P);
            if (k <= kTo) scoreTile1(w.keysT, k * P * hd, hd, q, o0, o1, o2, o3, scale, scores, STRIDE, k * P);

            // each slot's new largest score and its terms, all from the queries' state before this tile
            // (a repeated slot must see what its query's slot saw), then the state of the real ones
            for (int s = 0; s < Q; s++) {
                int i = i0 + Math.min(s, real - 1);
                int lo = Math.max(c0, firstOf(start + i / heads, window)), hi = Math.min(c1, start + i / heads);
                float before = w.max[i];
                if (lo > hi) { // nothing of this chunk: the query's sums stay as they are
                    w.slotMax[s] = before;
                    w.slotScale[s] = 1f;
                    w.slotTerms[s] = 0f;
                    continue;
                }
                int at = s * STRIDE + lo - c0, len = hi - lo + 1;
                if (softcap > 0) Ops.softcap(scores, at, len, softcap);
                float max = Math.max(before, Ops.maxOf(scores, at, len));
                w.slotMax[s] = max;
                w.slotScale[s] = (float) Math.exp(before - max); // 0 for a query's first chunk
                w.slotTerms[s] = Ops.expShifted(scores, at, len, max);
            }
            for (int s = 0; s < real; s++) {
                w.max[i0 + s] = w.slotMax[s];
                w.sum[i0 + s] = w.sum[i0 + s] * w.slotScale[s] + w.slotTerms[s];
            }

            // the positions every query of the tile attends to, then each query's own beyond them
            int coreFrom = lo3 - c0, coreTo = hi0 - c0;
            float f0 = w.slotScale[0], f1 = w.slotScale[1], f2 = w.slotScale[2], f3 = w.slotScale[3];
            int d = 0;
            for (; d + 4 * L <= hd; d += 4 * L) valueTile4(w.values, hd, d, coreFrom, coreTo, scores, STRIDE, o0, o1, o2, o3, f0, f1, f2, f3, out);
            for (; d < hd; d += L) valueTile1(w.values, hd, d, coreFrom, coreTo, scores, STRIDE, o0, o1, o2, o3, f0, f1, f2, f3, out);
            for (int s = 0; s < real; s++) {
                int i = i0 + s;
                int lo = Math.max(c0, firstOf(start + i / heads, window)) - c0, hi = Math.min(c1, start + i / heads) - c0;
                int o = offset(i, heads, qOff, qStride, hd);
                if (coreFrom > coreTo) {
                    valueEdge(w.values, hd, lo, hi, scores, s * STRIDE, out, o);
                } else {
                    valueEdge(w.values, hd, lo, coreFrom - 1, scores, s * STRIDE, out, o);
                    valueEdge(w.values, hd, coreTo + 1, hi, scores, s * STRIDE, out, o);
                }
            }
        }
    }

    private static int offset(int i, int heads, int qOff, int qStride, int headDim) {
        return qOff + i / heads * qStride + i % heads * headDim;
    }

    private static int firstOf(int last, int window) {
        return window > 0 ? Math.max(0, last - window + 1) : 0;
    }

    // Each tile's vector work is one method whole with its vectors (see Attention's note on boxing).

    /** Four queries' scores over key blocks k and k + 1 (from {@code keysT[base]}), scaled, into their slots at {@code at}. */
    private static void scoreTile2(float[] keysT, int base, int hd, float[] q, int q0, int q1, int q2, int q3,
                                   float scale, float[] scores, int stride, int at) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int next = base + P * hd;
        for (int d = 0; d < hd; d++) {
            FloatVector k0 = FloatVector.fromArray(F, keysT, base + d * P), k1 = FloatVector.fromArray(F, keysT, next + d * P);
            FloatVector x0 = FloatVector.broadcast(F, q[q0 + d]), x1 = FloatVector.broadcast(F, q[q1 + d]);
            FloatVector x2 = FloatVector.broadcast(F, q[q2 + d]), x3 = FloatVector.broadcast(F, q[q3 + d]);
            a0 = k0.fma(x0, a0);
            a1 = k0.fma(x1, a1);
            a2 = k0.fma(x2, a2);
            a3 = k0.fma(x3, a3);
            b0 = k1.fma(x0, b0);
            b1 = k1.fma(x1, b1);
            b2 = k1.fma(x2, b2);
            b3 = k1.fma(x3, b3);
        }
        a0.mul(scale).intoArray(scores, at);
        a1.mul(scale).intoArray(scores, stride + at);
        a2.mul(scale).intoArray(scores, 2 * stride + at);
        a3.mul(scale).intoArray(scores, 3 * stride + at);
        b0.mul(scale).intoArray(scores, at + P);
        b1.mul(scale).intoArray(scores, stride + at + P);
        b2.mul(scale).intoArray(scores, 2 * stride + at + P);
        b3.mul(scale).intoArray(scores, 3 * stride + at + P);
    }

    /** As {@link #scoreTile2}, key block k alone. */
    private static void scoreTile1(float[] keysT, int base, int hd, float[] q, int q0, int q1, int q2, int q3,
                                   float scale, float[] scores, int stride, int at) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0; d < hd; d++) {
            FloatVector k0 = FloatVector.fromArray(F, keysT, base + d * P);
            a0 = k0.fma(FloatVector.broadcast(F, q[q0 + d]), a0);
            a1 = k0.fma(FloatVector.broadcast(F, q[q1 + d]), a1);
            a2 = k0.fma(FloatVector.broadcast(F, q[q2 + d]), a2);
            a3 = k0.fma(FloatVector.broadcast(F, q[q3 + d]), a3);
        }
        a0.mul(scale).intoArray(scores, at);
        a1.mul(scale).intoArray(scores, stride + at);
        a2.mul(scale).intoArray(scores, 2 * stride + at);
        a3.mul(scale).intoArray(scores, 3 * stride + at);
    }

    /**
     * Four queries' outputs, dimensions d..d+4L-1: query s's times {@code fs}, plus the values at positions
     * {@code from..to} (relative to the chunk's first) weighted by its terms (none when the range is empty).
     */
    private static void valueTile4(float[] values, int hd, int d, int from, int to, float[] scores, int stride,
                                   int o0, int o1, int o2, int o3, float f0, float f1, float f2, float f3, float[] out) {
        FloatVector a00 = FloatVector.fromArray(F, out, o0 + d).mul(f0), a01 = FloatVector.fromArray(F, out, o0 + d + L).mul(f0);
        FloatVector a02 = FloatVector.fromArray(F, out, o0 + d + 2 * L).mul(f0), a03 = FloatVector.fromArray(F, out, o0 + d + 3 * L).mul(f0);
        FloatVector a10 = FloatVector.fromArray(F, out, o1 + d).mul(f1), a11 = FloatVector.fromArray(F, out, o1 + d + L).mul(f1);
        FloatVector a12 = FloatVector.fromArray(F, out, o1 + d + 2 * L).mul(f1), a13 = FloatVector.fromArray(F, out, o1 + d + 3 * L).mul(f1);
        FloatVector a20 = FloatVector.fromArray(F, out, o2 + d).mul(f2), a21 = FloatVector.fromArray(F, out, o2 + d + L).mul(f2);
        FloatVector a22 = FloatVector.fromArray(F, out, o2 + d + 2 * L).mul(f2), a23 = FloatVector.fromArray(F, out, o2 + d + 3 * L).mul(f2);
        FloatVector a30 = FloatVector.fromArray(F, out, o3 + d).mul(f3), a31 = FloatVector.fromArray(F, out, o3 + d + L).mul(f3);
        FloatVector a32 = FloatVector.fromArray(F, out, o3 + d + 2 * L).mul(f3), a33 = FloatVector.fromArray(F, out, o3 + d + 3 * L).mul(f3);
        for (int t = from; t <= to; t++) {
            int v = t * hd + d;
            FloatVector v0 = FloatVector.fromArray(F, values, v), v1 = FloatVector.fromArray(F, values, v + L);
            FloatVector v2 = FloatVector.fromArray(F, values, v + 2 * L), v3 = FloatVector.fromArray(F, values, v + 3 * L);
            FloatVector w = FloatVector.broadcast(F, scores[t]);
            a00 = v0.fma(w, a00);
            a01 = v1.fma(w, a01);
            a02 = v2.fma(w, a02);
            a03 = v3.fma(w, a03);
            w = FloatVector.broadcast(F, scores[stride + t]);
            a10 = v0.fma(w, a10);
            a11 = v1.fma(w, a11);
            a12 = v2.fma(w, a12);
            a13 = v3.fma(w, a13);
            w = FloatVector.broadcast(F, scores[2 * stride + t]);
            a20 = v0.fma(w, a20);
            a21 = v1.fma(w, a21);
            a22 = v2.fma(w, a22);
            a23 = v3.fma(w, a23);
            w = FloatVector.broadcast(F, scores[3 * stride + t]);
            a30 = v0.fma(w, a30);
            a31 = v1.fma(w, a31);
            a32 = v2.fma(w, a32);
            a33 = v3.fma(w, a33);
        }
        a00.intoArray(out, o0 + d);
        a01.intoArray(out, o0 + d + L);
        a02.intoArray(out, o0 + d + 2 * L);
        a03.intoArray(out, o0 + d + 3 * L);
        a10.intoArray(out, o1 + d);
        a11.intoArray(out, o1 + d + L);
        a12.intoArray(out, o1 + d + 2 * L);
        a13.intoArray(out, o1 + d + 3 * L);
        a20.intoArray(out, o2 + d);
        a21.intoArray(out, o2 + d + L);
        a22.intoArray(out, o2 + d + 2 * L);
        a23.intoArray(out, o2 + d + 3 * L);
        a30.intoArray(out, o3 + d);
        a31.intoArray(out, o3 + d + L);
        a32.intoArray(out, o3 + d + 2 * L);
        a33.intoArray(out, o3 + d + 3 * L);
    }

    /** As {@link #valueTile4}, dimensions d..d+L-1. */
    private static void valueTile1(float[] values, int hd, int d, int from, int to, float[] scores, int stride,
                                   int o0, int o1, int o2, int o3, float f0, float f1, float f2, float f3, float[] out) {
        FloatVector a0 = FloatVector.fromArray(F, out, o0 + d).mul(f0), a1 = FloatVector.fromArray(F, out, o1 + d).mul(f1);
        FloatVector a2 = FloatVector.fromArray(F, out, o2 + d).mul(f2), a3 = FloatVector.fromArray(F, out, o3 + d).mul(f3);
        for (int t = from; t <= to; t++) {
            FloatVector v = FloatVector.fromArray(F, values, t * hd + d);
            a0 = v.fma(FloatVector.broadcast(F, scores[t]), a0);
            a1 = v.fma(FloatVector.broadcast(F, scores[stride + t]), a1);
            a2 = v.fma(FloatVector.broadcast(F, scores[2 * stride + t]), a2);
            a3 = v.fma(FloatVector.broadcast(F, scores[3 * stride + t]), a3);
        }
        a0.intoArray(out, o0 + d);
        a1.intoArray(out, o1 + d);
        a2.intoArray(out, o2 + d);
        a3.intoArray(out, o3 + d);
    }

    /** One query's output at {@code out[o ..]} plus the values at positions from..to weighted by its scores at {@code scores[s ..]}. */
    private static void valueEdge(float[] values, int hd, int from, int to, float[] scores, int s, float[] out, int o) {
        if (from > to) return;
        for (int d = 0; d < hd; d += L) {
            FloatVector a = FloatVector.fromArray(F, out, o + d);
            for (int t = from; t <= to; t++) {
                a = FloatVector.fromArray(F, values, t * hd + d).fma(FloatVector.broadcast(F, scores[s + t]), a);
            }
            a.intoArray(out, o + d);
        }
    }
}
