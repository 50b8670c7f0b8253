package io.flashllm.predictor.runtime;

import io.flashllm.flashstore.select.NeuronSelector;
import io.flashllm.flashstore.select.Selection;
import io.flashllm.kernels.Parallel;
import io.flashllm.predictor.format.LayerPredictor;
import io.flashllm.predictor.format.PredictorFormat;
import io.flashllm.predictor.format.PredictorSet;
import io.flashllm.predictor.math.Vec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code --ffn-mode predicted}: per token and layer, the layer's low-rank predictor scores every
 * neuron, score = B (A x) + c over off-heap F32 weights, and the neurons scoring above the tuned
 * threshold are selected; the bundle FFN's neuron cache and I/O engine then fetch what the window
 * lacks. Not exact: a neuron the predictor misses is lost for that token (the quality sampler
 * measures how often and how much).
 *
 * <p>Like the FFN that calls it, one caller at a time; no allocation per token. With a
 * {@link Parallel} pool the rank projections and the neuron scores are split over its threads
 * (the scores go to a buffer, then one pass in neuron order picks those above the threshold).
 */
public final class PredictedSelector implements NeuronSelector, AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final LayerPredictor[] layers;
    private final QualitySampler sampler;
    private final float[] h;
    private final float[] scores;
    private final Parallel parallel;
    private final Parallel.RangeBody projectBody = this::projectRange;
    private final Parallel.RangeBody scoreBody = this::scoreRange;
    private final AutoCloseable owned;
    private LayerPredictor current;
    private float[] currentX;
    private final LongAdder calls = new LongAdder();
    private final LongAdder nanos = new LongAdder();
    private final LongAdder selected = new LongAdder();
    private final LongAdder considered = new LongAdder();

    /** @param sampler checks a share of selections against the truth; null for none */
    public PredictedSelector(PredictorSet predictors, QualitySampler sampler) {
        this(predictors, sampler, null);
    }

    /** @param parallel threads to score with (the model's pool); null scores on the calling thread */
    public PredictedSelector(PredictorSet predictors, QualitySampler sampler, Parallel parallel) {
        this(predictors, sampler, parallel, null);
    }

    /** @param owned closed with this selector (the predictor set and the sampler's matrices it was opened with), or null */
    PredictedSelector(PredictorSet predictors, QualitySampler sampler, Parallel parallel, AutoCloseable owned) {
        this.owned = owned;
        this.layers = predictors.all().toArray(new LayerPredictor[0]);
        this.sampler = sampler;
        this.parallel = parallel != null && parallel.threads() > 1 ? parallel : null;
        int maxRank = 0;
        int maxNeurons = 0;
        for (LayerPredictor p : layers) {
            maxRank = Math.max(maxRank, p.rank());
            maxNeurons = Math.max(maxNeurons, p.neurons());
        }
        this.h = new float[maxRank];
        this.scores = this.parallel == null ? null : new float[maxNeurons];
        if (sampler != null && sampler.layers() != layers.length) {
            throw new IllegalArgumentException("quality sampler covers " + sampler.layers() + " layers, the predictors " + layers.length);
        }
    }

    @Override
    public String name() {
        return "predicted";
    }

    @Override
    public void select(int layer, float[] x, Selection out) {
        long t0 = System.nanoTime();
        LayerPredictor p = layers[layer];
        if (parallel != null) {
            current = p;
            currentX = x;
            parallel.forRange(p.rank(), projectBody);
            parallel.forRange(p.neurons(), scoreBody);
            currentX = null;
            float t = p.threshold();
            for (int j = 0, n = p.neurons(); j < n; j++) if (scores[j] > t) out.add(j);
        } else if (p.storage() == PredictorFormat.WeightType.Q8) {
            scoreQ8(p, x, out);
        } else {
            scoreF32(p, x, out);
        }
        nanos.add(System.nanoTime() - t0);
        calls.increment();
        selected.add(out.count());
        considered.add(p.neurons());
        if (sampler != null && sampler.draw()) sampler.check(layer, x, out);
    }

    /** h[i] = A_i . x for i in [from, to) of the current layer. */
    private void projectRange(int from, int to) {
        LayerPredictor p = current;
        int dim = p.dim();
        float[] x = currentX;
        if (p.storage() == PredictorFormat.WeightType.Q8) {
            for (int i = from; i < to; i++) h[i] = p.aScale().get(F32, 4L * i) * Vec.dotQ8(p.a(), (long) i * dim, x, 0, dim);
        } else {
            for (int i = from; i < to; i++) h[i] = Vec.dot(p.a(), 4L * i * dim, x, 0, dim);
        }
    }

    /** scores[j] = B_j . h + c_j for j in [from, to) of the current layer. */
    private void scoreRange(int from, int to) {
        LayerPredictor p = current;
        int rank = p.rank();
        MemorySegment c = p.c();
        if (p.storage() == PredictorFormat.WeightType.Q8) {
            MemorySegment b = p.b();
            MemorySegment bs = p.bScale();
            for (int j = from; j < to; j++) scores[j] = bs.get(F32, 4L * j) * Vec.dotQ8(b, (long) j * rank, h, 0, rank) + c.get(F32, 4L * j);
        } else {
            MemorySegment b = p.b();
            long rowBytes = 4L * rank;
            for (int j = from; j < to; j++) scores[j] = Vec.dot(b, j * rowBytes, h, 0, rank) + c.get(F32, 4L * j);
        }
    }

    private void scoreF32(LayerPredictor p, float[] x, Selection out) {
        int dim = p.dim();
        int rank = p.rank();
        MemorySegment a = p.a();
        MemorySegment b = p.b();
        MemorySegment c = p.c();
        for (int i = 0; i < rank; i++) h[i] = Vec.dot(a, 4L * i * dim, x, 0, dim);
        float t = p.threshold();
        int n = p.neurons();
        long rowBytes = 4L * rank;
        for (int j = 0; j < n; j++) {
            if (Vec.dot(b, j * rowBytes, h, 0, rank) + c.get(F32, 4L * j) > t) out.add(j);
        }
    }

    private void scoreQ8(LayerPredictor p, float[] x, Selection out) {
        int dim = p.dim();
        int rank = p.rank();
        MemorySegment a = p.a();
        MemorySegment as = p.aScale();
        MemorySegment b = p.b();
        MemorySegment bs = p.bScale();
        MemorySegment c = p.c();
        for (int i = 0; i < rank; i++) h[i] = as.get(F32, 4L * i) * Vec.dotQ8(a, (long) i * dim, x, 0, dim);
        float t = p.threshold();
        int n = p.neurons();
        for (int j = 0; j < n; j++) {
            if (bs.get(F32, 4L * j) * Vec.dotQ8(b, (long) j * rank, h, 0, rank) + c.get(F32, 4L * j) > t) out.add(j);
        }
    }

    @Override
    public boolean needsResidentGate() {
        return false;
    }

    /** Selections made. */
    public LongAdder calls() {
        return calls;
    }

    /** Time spent predicting (not counting quality checks), nanoseconds. */
    public LongAdder nanos() {
        return nanos;
    }

    /** Neurons selected, summed over calls (÷ {@link #considered()} = fraction predicted active). */
    public LongAdder selected() {
        return selected;
    }

    public LongAdder considered() {
        return considered;
    }

    /** The quality sampler, or null. */
    public QualitySampler sampler() {
        return sampler;
    }

    public int layers() {
        return layers.length;
    }

    /** Closes what this selector was opened with by {@link PredictedSelectors}; nothing otherwise. */
    @Override
    public void close() {
        if (owned == null) return;
        try {
            owned.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the predictors failed", e);
        }
    }
}
