package io.flashllm.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.FLOAT_LE;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;

/**
 * An off-heap key/value cache for one sequence, all layers, F32, with attention over it. Layout
 * per layer: keys then values, each {@code [position][kvHead][headDim]}, so one head's history at
 * one position is contiguous. Grouped-query attention: query head h reads KV head
 * {@code h / (heads / kvHeads)}. Not thread-safe; one cache per session.
 */
public final class KvCache implements AutoCloseable {
    private final Arena arena;
    private final MemorySegment data;
    private final int layers, maxLen, kvHeads, headDim, kvDim;
    private final long layerBytes, plane;
    private final float[] scores; // [head][position], reused by every attend call

    /** Allocates {@code layers x 2 x maxLen x kvHeads x headDim} floats off-heap. */
    public KvCache(int layers, int maxLen, int heads, int kvHeads, int headDim) {
        if (layers <= 0 || maxLen <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("bad KV cache shape: layers " + layers + ", maxLen " + maxLen
                    + ", heads " + heads + ", kvHeads " + kvHeads + ", headDim " + headDim);
        }
        this.layers = layers;
        this.maxLen = maxLen;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.kvDim = kvHeads * headDim;
        this.plane = 4L * maxLen * kvDim;
        this.layerBytes = 2 * plane;
        this.arena = Arena.ofShared();
        this.data = arena.allocate(layerBytes * layers, 64);
        this.scores = new float[Math.multiplyExact(heads, maxLen)];
    }

    public int maxLen() {
        return maxLen;
    }

    /** Bytes of off-heap memory held. */
    public long byteSize() {
        return data.byteSize();
    }

    /** Stores the key and value vectors ({@code kvHeads*headDim} floats each) of {@code pos} in {@code layer}. */
    public void put(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        check(layer, pos);
        long at = layer * layerBytes + 4L * pos * kvDim;
        MemorySegment.copy(k, kOff, data, FLOAT_LE, at, kvDim);
        MemorySegment.copy(v, vOff, data, FLOAT_LE, at + plane, kvDim);
    }

    /**
     * Causal attention of the query {@code q[qOff .. qOff + heads*headDim)} for position {@code pos}
     * over positions {@code 0..pos} of {@code layer}: per head, softmax(q.K * scale) . V, written to
     * {@code out[outOff ..]}. Heads are spread over {@code p} (may be null).
     */
    public void attend(Parallel p, int layer, int pos, float[] q, int qOff, float scale, float[] out, int outOff) {
        check(layer, pos);
        int heads = scores.length / maxLen;
        Checks.span("q", q, qOff, (long) heads * headDim);
        Checks.span("out", out, outOff, (long) heads * headDim);
        int group = heads / kvHeads;
        long kBase = layer * layerBytes, vBase = kBase + plane;
        int len = pos + 1;
        Parallel.RangeBody body = (from, to) -> {
            for (int h = from; h < to; h++) {
                int kvh = h / group;
                int sOff = h * maxLen;
                int qh = qOff + h * headDim;
                for (int t = 0; t < len; t++) {
                    scores[sOff + t] = dot(data, kBase + 4L * ((long) t * kvDim + (long) kvh * headDim), q, qh, headDim) * scale;
                }
                Ops.softmax(scores, sOff, len);
                int oh = outOff + h * headDim;
                java.util.Arrays.fill(out, oh, oh + headDim, 0f);
                for (int t = 0; t < len; t++) {
                    axpy(data, vBase + 4L * ((long) t * kvDim + (long) kvh * headDim), scores[sOff + t], out, oh, headDim);
                }
            }
        };
        if (p == null || len * (long) heads * headDim < 1 << 14) body.run(0, heads);
        else p.forRange(heads, body);
    }

    private static float dot(MemorySegment s, long off, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            acc = FloatVector.fromMemorySegment(F, s, off + 4L * i, LE).fma(FloatVector.fromArray(F, x, xOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += s.get(FLOAT_LE, off + 4L * i) * x[xOff + i];
        return sum;
    }

    private static void axpy(MemorySegment s, long off, float a, float[] out, int outOff, int n) {
        FloatVector av = FloatVector.broadcast(F, a);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromMemorySegment(F, s, off + 4L * i, LE).fma(av, FloatVector.fromArray(F, out, outOff + i))
                    .intoArray(out, outOff + i);
        }
        for (; i < n; i++) out[outOff + i] += a * s.get(FLOAT_LE, off + 4L * i);
    }

    private void check(int layer, int pos) {
        if (layer < 0 || layer >= layers) throw new IndexOutOfBoundsException("layer " + layer + " outside 0.." + (layers - 1));
        if (pos < 0 || pos >= maxLen) {
            throw new IndexOutOfBoundsException("position " + pos + " outside the KV cache of " + maxLen + " positions");
        }
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
