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
 * before it and its own (within the layer's window, if any). The keys and values of the positions the
 * batch attends to are widened to floats once ({@link #prepare}): the values row by row, the keys
 * transposed a block of {@link #P} positions at a time, so that one vector holds P positions' values of
 * one dimension. A score tile then needs no horizontal sums: query i's scores over a block are
 * {@code sum_d q_i[d] * keysT[d]}, a broadcast and a multiply-add per dimension, P positions a lane each.
 * The rows attended as {@link Attention#attendGroup} took a fold per score, or four vector steps per
 * block of them, on top of the multiply-adds.
 *
 * <p>Queries of one tile end (and, under a window, start) at different positions when the tile spans
 * rows: the scores are computed over the union of their spans and each query normalizes and reads only
 * its own; the values of the positions all of them attend to go through the tile, the few at the edges
 * query by query, so no query's output takes a value from outside its span. The sums run in another
 * order than the row-by-row forms', so the results agree with them to rounding, not to the bit.
 */
final class BatchAttention {
    /** Positions per key block, one a lane. */
    static final int P = L;
    /** Queries per tile. */
    static final int Q = 4;
    /** Floats of keys and values {@link #prepare} widens at most per thread: 4 MiB (8,192 positions of 64-wide heads). */
    static final int LIMIT = 1 << 20;

    /** One kv head's keys and values widened for a batch, and the scores of one tile; a thread's own, reused. */
    static final class Panels {
        /** Block k's dimension d: {@code keysT[(k * headDim + d) * P + p]} is position {@code first + k * P + p}. */
        private float[] keysT = new float[0];
        /** Position t's value at {@code values[(t - first) * headDim ..]}. */
        private float[] values = new float[0];
        /** One block of widened key rows, on their way to {@link #keysT}. */
        private float[] rows = new float[0];
        /** The tile's scores: query slot s, position t at {@code scores[s * stride + t - first]}. */
        private float[] scores = new float[0];
        private int first, last, headDim, stride;
    }

    private static final ThreadLocal<Panels> PANELS = ThreadLocal.withInitial(Panels::new);

    private BatchAttention() {}

    /**
     * This thread's {@link Panels} of kv head {@code kvHead} in {@code layer} over positions
     * {@code first..last}, or null where the batch attends row by row instead: heads that are not whole
     * vectors, or keys and values over {@link #LIMIT} floats. Valid until the thread's next call.
     */
    static Panels prepare(KvCache cache, int layer, int kvHead, int headDim, int first, int last) {
        int positions = last - first + 1;
        int blocks = (positions + P - 1) / P;
        long size = (long) blocks * P * headDim;
        if (headDim % L != 0 || 2 * size > LIMIT) return null;
        Panels w = PANELS.get();
        if (w.keysT.length < size) {
            w.keysT = new float[(int) size];
            w.values = new float[(int) size];
        }
        if (w.rows.length < P * headDim) w.rows = new float[P * headDim];
        if (w.scores.length < Q * blocks * P) w.scores = new float[Q * blocks * P];
        float[] rows = w.rows, keysT = w.keysT;
        for (int k = 0; k < blocks; k++) {
            int t0 = first + k * P, n = Math.min(P, last - t0 + 1);
            cache.widenRows(false, layer, kvHead, t0, n, rows, 0);
            // a last block's missing rows give lanes that no query reads; zeros keep them finite
            if (n < P) Arrays.fill(rows, n * headDim, P * headDim, 0f);
            int base = k * P * headDim;
            for (int p = 0; p < P; p++) {
                int r = p * headDim;
                for (int d = 0; d < headDim; d++) keysT[base + d * P + p] = rows[r + d];
            }
        }
        cache.widenRows(true, layer, kvHead, first, positions, w.values, 0);
        w.first = first;
        w.last = last;
        w.headDim = headDim;
        w.stride = blocks * P;
        return w;
    }

    /**
     * The attention of {@code count} rows of a prompt batch over the prepared keys and values: row b is
     * at position {@code start + b} and has {@code heads} query heads at {@code q[qOff + b * qStride + j *
     * headDim ..]}, j = 0..heads-1, whose outputs go to the same offsets of {@code out}. Head j's scores are
     * scaled by {@code scale}, soft-capped when {@code softcap} > 0, and, with {@code sinks}, its softmax has
     * the term {@code sinks[sinkOff + j]} too (see {@link Attention#attendGroup}). With {@code window} > 0
     * row b attends to its last {@code window} positions only. The panels must cover every row's span.
     */
    static void attend(Panels w, int heads, float[] q, int qOff, int qStride, int count, int start, int window,
                       float scale, float softcap, float[] sinks, int sinkOff, float[] out) {
        int n = count * heads, hd = w.headDim, stride = w.stride;
        float[] scores = w.scores;
        for (int i0 = 0; i0 < n; i0 += Q) {
            int real = Math.min(Q, n - i0);
            // slots past the last query repeat it: the same bits computed and stored twice
            int i1 = i0 + Math.min(1, real - 1), i2 = i0 + Math.min(2, real - 1), i3 = i0 + Math.min(3, real - 1);
            int o0 = offset(i0, heads, qOff, qStride, hd), o1 = offset(i1, heads, qOff, qStride, hd);
            int o2 = offset(i2, heads, qOff, qStride, hd), o3 = offset(i3, heads, qOff, qStride, hd);
            // rows only grow along the queries, so the tile's first query has the least span, the last the greatest
            int minLast = start + i0 / heads, maxLast = start + i3 / heads;
            int minFirst = firstOf(minLast, window), maxFirst = firstOf(maxLast, window);
            int kFrom = (minFirst - w.first) / P, kTo = (maxLast - w.first) / P;
            int k = kFrom;
            for (; k + 1 <= kTo; k += 2) scoreTile2(w.keysT, k * P * hd, hd, q, o0, o1, o2, o3, scale, scores, stride, k * P);
            if (k <= kTo) scoreTile1(w.keysT, k * P * hd, hd, q, o0, o1, o2, o3, scale, scores, stride, k * P);

            for (int s = 0; s < Q; s++) {
                int i = i0 + Math.min(s, real - 1);
                int last = start + i / heads, first = firstOf(last, window);
                int at = s * stride + first - w.first, len = last - first + 1;
                if (softcap > 0) Ops.softcap(scores, at, len, softcap);
                Ops.softmax(scores, at, len, sinks != null ? sinks[sinkOff + i % heads] : Float.NEGATIVE_INFINITY);
            }

            // the positions every query of the tile attends to, then each query's own beyond them
            int coreFrom = maxFirst - w.first, coreTo = minLast - w.first;
            int d = 0;
            for (; d + 4 * L <= hd; d += 4 * L) valueTile4(w.values, hd, d, coreFrom, coreTo, scores, stride, o0, o1, o2, o3, out);
            for (; d < hd; d += L) valueTile1(w.values, hd, d, coreFrom, coreTo, scores, stride, o0, o1, o2, o3, out);
            for (int s = 0; s < real; s++) {
                int i = i0 + s;
                int last = start + i / heads - w.first, first = firstOf(start + i / heads, window) - w.first;
                int o = offset(i, heads, qOff, qStride, hd);
                if (coreFrom > coreTo) {
                    valueEdge(w.values, hd, first, last, scores, s * stride, out, o);
                } else {
                    valueEdge(w.values, hd, first, coreFrom - 1, scores, s * stride, out, o);
                    valueEdge(w.values, hd, coreTo + 1, last, scores, s * stride, out, o);
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
     * Four queries' outputs, dimensions d..d+4L-1: the weighted sum of the values at positions
     * {@code from..to} (relative to the panels' first), stored (zeros when the range is empty).
     */
    private static void valueTile4(float[] values, int hd, int d, int from, int to, float[] scores, int stride,
                                   int o0, int o1, int o2, int o3, float[] out) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
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
                                   int o0, int o1, int o2, int o3, float[] out) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
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
