package io.flashllm.engine.model;

import io.flashllm.kernels.Ops;
import io.flashllm.kernels.cpu.RowKernel;
import io.flashllm.kernels.cpu.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.L;

/**
 * Scaled dot-product attention of the query heads that share one key/value head (grouped-query
 * attention; a group of one is plain multi-head attention) over the cached positions
 * {@code first..last} (causal by construction: later positions are not in the cache yet, or are
 * ignored; {@code first} > 0 only under a sliding window).
 *
 * <p>Each cached key and value row is widened to floats once for the whole group, and then read
 * from L1 by every head of the group. Heads of whole vectors go a block of positions at a time
 * ({@link #attendBlocked}), others a position at a time ({@link #attendRowwise}); both give the same
 * bits. The softmax is {@link Ops#softmax}, over vectors. This is a decode step's attention (and a
 * prompt row's where {@link BatchAttention} does not apply); a prompt batch's rows, which attend to the
 * same keys and values, go through {@link BatchAttention}'s matrix products.
 */
final class Attention {
    /** Per thread, one key or value row widened to floats (grown to the head size on first use). */
    private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[0]);

    private Attention() {}

    /**
     * For the {@code group} query heads at {@code q[qOff + j * headDim ..]}, j = 0..group-1, all
     * reading kv head {@code kvHead}: {@code out[outOff + j * headDim ..] = softmax(q_j·K^T * scale) V}
     * over positions first..last. Head j's scores go to {@code scores[scoresOff + j * scoresStride + t]},
     * which must hold position {@code last}. With {@code softcap} > 0 (Gemma 2) a scaled score s becomes
     * {@code softcap * tanh(s / softcap)} before the softmax. With {@code sinks} (gpt-oss) head j's softmax has
     * one more term, {@code sinks[sinkOff + j]}, that takes its share of the weight and adds no value.
     */
    static void attendGroup(KvCache cache, int layer, int kvHead, int group, int headDim, float[] q, int qOff,
                            int first, int last, float scale, float softcap, float[] sinks, int sinkOff,
                            float[] scores, int scoresOff, int scoresStride, float[] out, int outOff) {
        if (headDim % L == 0) {
            attendBlocked(cache, layer, kvHead, group, headDim, q, qOff, first, last, scale, softcap, sinks, sinkOff,
                    scores, scoresOff, scoresStride, out, outOff);
        } else {
            attendRowwise(cache, layer, kvHead, group, headDim, q, qOff, first, last, scale, softcap, sinks, sinkOff,
                    scores, scoresOff, scoresStride, out, outOff);
        }
    }

    /** Positions per block of {@link #attendBlocked}: one score per lane. */
    private static final int P = L;
    /** Per thread: a block of P widened key or value rows, then P partial-sum vectors (grown on first use). */
    private static final ThreadLocal<float[]> BLOCK = ThreadLocal.withInitial(() -> new float[0]);
    // Step k of the block's sums (k = L/2 .. 1): lanes whose index has bit k set, and the swap of lane i with i ^ k.
    private static final VectorMask<Float> ODD8 = odd(8), ODD4 = odd(4), ODD2 = odd(2), ODD1 = odd(1);
    private static final VectorShuffle<Float> SWAP8 = swap(8), SWAP4 = swap(4), SWAP2 = swap(2), SWAP1 = swap(1);

    private static VectorMask<Float> odd(int k) {
        boolean[] bits = new boolean[L];
        for (int i = 0; i < L; i++) bits[i] = (i & k) != 0;
        return VectorMask.fromArray(F, bits, 0);
    }

    private static VectorShuffle<Float> swap(int k) {
        return VectorShuffle.fromOp(F, i -> (i ^ k) % L); // k >= L only for steps a narrower vector never takes
    }

    /**
     * Heads whose size is whole vectors, P = L positions at a time: the block's key rows are widened
     * once into a buffer in L1 for all heads of the group, each head's P dot products are left as P
     * vectors of partial sums, and {@link #sums} turns them into one vector of P scores ({@link #scoreBlock}). Per score that
     * is about four vector operations where a fold of its own takes some twelve; the values are then
     * accumulated block by block with the output in registers instead of loaded and stored per
     * position. The sums pair lanes as {@link Simd}'s fold does (i ^ L/2, ..., i ^ 1), so a score has
     * the same bits as {@link #attendRowwise} gives it.
     */
    static void attendBlocked(KvCache cache, int layer, int kvHead, int group, int headDim, float[] q, int qOff,
                                      int first, int last, float scale, float softcap, float[] sinks, int sinkOff,
                                      float[] scores, int scoresOff, int scoresStride, float[] out, int outOff) {
        int sumsAt = P * headDim;
        float[] block = BLOCK.get();
        if (block.length < sumsAt + P * L) {
            block = new float[sumsAt + P * L];
            BLOCK.set(block);
        }

        for (int t0 = first; t0 <= last; t0 += P) {
            int n = Math.min(P, last - t0 + 1);
            // rows n..P-1 keep what they held: their lanes of the scores are computed and never stored
            cache.widenRows(false, layer, kvHead, t0, n, block, 0);
            for (int j = 0; j < group; j++) {
                scoreBlock(block, n, q, qOff + j * headDim, headDim, scale, block, sumsAt,
                        scores, scoresOff + j * scoresStride + t0);
            }
        }

        normalize(group, first, last, softcap, sinks, sinkOff, scores, scoresOff, scoresStride, out, outOff, headDim);

        for (int t0 = first; t0 <= last; t0 += P) {
            int n = Math.min(P, last - t0 + 1);
            cache.widenRows(true, layer, kvHead, t0, n, block, 0);
            for (int j = 0; j < group; j++) {
                valueBlock(block, n, headDim, scores, scoresOff + j * scoresStride + t0, out, outOff + j * headDim);
            }
        }
    }

    // The vector work of a block is in methods of its own, each whole with its vectors, so that the
    // loops above hold none: whatever C2 decides to inline there, no vector crosses a call (where it
    // would be boxed, megabytes per thousand calls).

    /**
     * One head's P scores for the block whose rows start at {@code keys[0]}: its P dot products with
     * the query at {@code q[qj]} as vectors of partial sums in {@code t[at ..]}, summed by {@link #sums},
     * scaled, and the first n stored at {@code scores[out ..]}.
     */
    private static void scoreBlock(float[] keys, int n, float[] q, int qj, int headDim, float scale,
                                   float[] t, int at, float[] scores, int out) {
        for (int p = 0; p < P; p++) {
            int kp = p * headDim;
            FloatVector acc = FloatVector.zero(F);
            for (int d = 0; d < headDim; d += L) {
                acc = FloatVector.fromArray(F, q, qj + d).fma(FloatVector.fromArray(F, keys, kp + d), acc);
            }
            acc.intoArray(t, at + p * L);
        }
        sums(t, at);
        FloatVector s = FloatVector.fromArray(F, t, at).mul(scale);
        if (n == P) {
            s.intoArray(scores, out);
        } else { // a masked store has no instruction on NEON: through the buffer instead
            s.intoArray(t, at);
            System.arraycopy(t, at, scores, out, n);
        }
    }

    /** One head's output at {@code out[oj ..]} plus the block's n value rows (from {@code values[0]}) times its weights. */
    private static void valueBlock(float[] values, int n, int headDim, float[] scores, int sj, float[] out, int oj) {
        int d = 0;
        // four output vectors at a time, in registers across the block's positions
        for (; d + 4 * L <= headDim; d += 4 * L) {
            FloatVector a0 = FloatVector.fromArray(F, out, oj + d), a1 = FloatVector.fromArray(F, out, oj + d + L);
            FloatVector a2 = FloatVector.fromArray(F, out, oj + d + 2 * L), a3 = FloatVector.fromArray(F, out, oj + d + 3 * L);
            for (int p = 0; p < n; p++) {
                FloatVector w = FloatVector.broadcast(F, scores[sj + p]);
                int vp = p * headDim + d;
                a0 = FloatVector.fromArray(F, values, vp).fma(w, a0);
                a1 = FloatVector.fromArray(F, values, vp + L).fma(w, a1);
                a2 = FloatVector.fromArray(F, values, vp + 2 * L).fma(w, a2);
                a3 = FloatVector.fromArray(F, values, vp + 3 * L).fma(w, a3);
            }
            a0.intoArray(out, oj + d);
            a1.intoArray(out, oj + d + L);
            a2.intoArray(out, oj + d + 2 * L);
            a3.intoArray(out, oj + d + 3 * L);
        }
        for (; d < headDim; d += L) {
            FloatVector a = FloatVector.fromArray(F, out, oj + d);
            for (int p = 0; p < n; p++) {
                a = FloatVector.fromArray(F, values, p * headDim + d).fma(FloatVector.broadcast(F, scores[sj + p]), a);
            }
            a.intoArray(out, oj + d);
        }
    }

    /**
     * The P vectors of partial sums at {@code t[at + p * L ..]}, p = 0..P-1, summed lane-wise into one
     * vector, left at {@code t[at ..]}, whose lane p is the sum of vector p. Step k pairs vector i with vector i + k: lanes with
     * bit k clear keep vector i's lane plus its lane i ^ k, lanes with bit k set vector i + k's, so
     * each step halves the vectors and the lanes each one still has to add.
     */
    private static void sums(float[] t, int at) {
        if (L >= 16) sumStep(t, at, 8, ODD8, SWAP8);
        if (L >= 8) sumStep(t, at, 4, ODD4, SWAP4);
        sumStep(t, at, 2, ODD2, SWAP2);
        sumStep(t, at, 1, ODD1, SWAP1);
    }

    private static void sumStep(float[] t, int at, int k, VectorMask<Float> odd, VectorShuffle<Float> swap) {
        for (int i = 0; i < k; i++) {
            FloatVector a = FloatVector.fromArray(F, t, at + i * L), b = FloatVector.fromArray(F, t, at + (i + k) * L);
            a.blend(b, odd).add(b.blend(a, odd).rearrange(swap)).intoArray(t, at + i * L);
        }
    }

    /** Soft-capping (Gemma 2) and the softmax of each head's scores over first..last; each head's output zeroed. */
    private static void normalize(int group, int first, int last, float softcap, float[] sinks, int sinkOff,
                                  float[] scores, int scoresOff, int scoresStride, float[] out, int outOff, int headDim) {
        for (int j = 0; j < group; j++) {
            if (softcap > 0) Ops.softcap(scores, scoresOff + j * scoresStride + first, last - first + 1, softcap);
            Ops.softmax(scores, scoresOff + j * scoresStride + first, last - first + 1,
                    sinks != null ? sinks[sinkOff + j] : Float.NEGATIVE_INFINITY);
            Arrays.fill(out, outOff + j * headDim, outOff + (j + 1) * headDim, 0f);
        }
    }

    /** As {@link #attendGroup}, one cached position at a time: heads of any size (a scalar tail after the vectors). */
    static void attendRowwise(KvCache cache, int layer, int kvHead, int group, int headDim, float[] q, int qOff,
                                      int first, int last, float scale, float softcap, float[] sinks, int sinkOff,
                                      float[] scores, int scoresOff, int scoresStride, float[] out, int outOff) {
        RowKernel rows = cache.rowKernel();
        MemorySegment m = cache.memory();
        float[] row = ROW.get();
        if (row.length < headDim) {
            row = new float[headDim];
            ROW.set(row);
        }
        int bound = headDim - headDim % L;

        for (int t = first; t <= last; t++) {
            rows.dequant(m, cache.rowOffset(layer, false, kvHead, t), headDim, row, 0);
            for (int j = 0; j < group; j++) {
                int qj = qOff + j * headDim;
                FloatVector acc = FloatVector.zero(F);
                for (int d = 0; d < bound; d += L) {
                    acc = FloatVector.fromArray(F, q, qj + d).fma(FloatVector.fromArray(F, row, d), acc);
                }
                FloatVector fold1 = acc.add(acc.rearrange(Simd.FOLD_1));
                fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
                fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
                float s = fold1.lane(0) + fold1.lane(1);
                for (int d = bound; d < headDim; d++) s += q[qj + d] * row[d];
                scores[scoresOff + j * scoresStride + t] = s * scale;
            }
        }

        normalize(group, first, last, softcap, sinks, sinkOff, scores, scoresOff, scoresStride, out, outOff, headDim);

        for (int t = first; t <= last; t++) {
            rows.dequant(m, cache.rowOffset(layer, true, kvHead, t), headDim, row, 0);
            for (int j = 0; j < group; j++) {
                int oj = outOff + j * headDim;
                float p = scores[scoresOff + j * scoresStride + t];
                FloatVector pv = FloatVector.broadcast(F, p);
                for (int d = 0; d < bound; d += L) {
                    FloatVector.fromArray(F, row, d).fma(pv, FloatVector.fromArray(F, out, oj + d)).intoArray(out, oj + d);
                }
                for (int d = bound; d < headDim; d++) out[oj + d] += p * row[d];
            }
        }
    }
}
