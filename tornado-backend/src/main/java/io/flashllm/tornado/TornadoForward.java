package io.flashllm.tornado;

import io.flashllm.engine.model.DeviceForward;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.model.ModelConfig;
import io.flashllm.engine.model.ModelWeights;
import io.flashllm.flashstore.bundle.BundleFeedForward;
import io.flashllm.flashstore.cache.RowShape;
import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.Dequant;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * One sequence on a TornadoVM device: the decode step as a chain of {@link DecodeGraph} segments,
 * each in its own execution plan. The first step compiles every task (TornadoVM JIT, then the
 * device's compiler) and uploads the weights; later steps move the residual stream between
 * segments (a few KiB), the position and the logits.
 *
 * <p>When the model's FFN is not in its file (a flash bundle: neurons come from flash through the
 * neuron cache), each segment is one layer's attention half and the host runs the FFN in between.
 *
 * <p>Closing a leased instance hands it back to {@link TornadoBackend} for the model's next
 * sequence; {@link #free} releases the device.
 */
final class TornadoForward implements DeviceForward {
    private static final AtomicInteger PLANS = new AtomicInteger();

    private final LanguageModel model;
    private final int contextLength;
    private BiConsumer<LanguageModel, TornadoForward> onClose;
    private final ModelConfig config;
    private final ModelWeights weights;
    private final FeedForward hostFfn;
    // A bundle FFN whose cache rows this instance computes on the device, and the device side of it.
    private final BundleFeedForward bundleFfn;
    private final DeviceBundleRows bundleRows;
    private final List<DecodeGraph> segments = new ArrayList<>();
    private final List<TornadoExecutionPlan> plans = new ArrayList<>();
    private final String device;
    private final float[] row;
    private final float[] positionRow;
    private final float[] ffnIn;
    private final float[] ffnOut;
    private final float[] out;

    TornadoForward(LanguageModel model, int contextLength) {
        RuntimeFlags.apply();
        this.model = model;
        this.contextLength = contextLength;
        this.config = model.config();
        this.weights = model.weights();
        boolean ffnOnDevice = !weights.ffn().isEmpty();
        this.hostFfn = ffnOnDevice ? null : model.ffn();
        this.bundleFfn = hostFfn instanceof BundleFeedForward b && config.activation().gated()
                && deviceRowTypes(b) ? b : null;
        this.bundleRows = bundleFfn == null ? null
                : new DeviceBundleRows(config.activation(), config.layers(), config.dim());
        int id = PLANS.incrementAndGet();
        int layers = config.layers();
        int step = ffnOnDevice ? DecodeGraph.LAYERS_PER_GRAPH : 1;
        try {
            for (int first = 0; first < layers; first += step) {
                int last = Math.min(layers, first + step);
                boolean classifier = ffnOnDevice && last == layers;
                add(DecodeGraph.build("flashllm" + id + "_" + first, config, weights, contextLength, first, last,
                        ffnOnDevice, classifier));
            }
            if (!ffnOnDevice) {
                add(DecodeGraph.build("flashllm" + id + "_head", config, weights, contextLength, layers, layers,
                        true, true));
            }
        } catch (RuntimeException e) {
            free();
            throw e;
        }
        var d = plans.getFirst().getDevice(0);
        this.device = "tornado: " + d.getPlatformName().trim() + " / " + d.getDescription().trim()
                + (hostFfn == null ? "" : bundleFfn != null ? " (bundle FFN: neuron-cache rows on the device)"
                : " (bundle FFN on the CPU)");
        this.row = new float[config.dim()];
        this.positionRow = weights.positionEmbedding() == null ? null : new float[config.dim()];
        this.ffnIn = new float[config.dim()];
        this.ffnOut = new float[config.dim()];
        this.out = new float[config.vocabSize()];
    }

    /** Whether every cached part of the bundle is F16 or Q8_0, the encodings the row kernels read. */
    private static boolean deviceRowTypes(BundleFeedForward b) {
        for (RowShape s : b.cacheRowShapes()) {
            if (s.type() != GgmlType.F16 && s.type() != GgmlType.Q8_0) return false;
        }
        return true;
    }

    private void add(DecodeGraph g) {
        segments.add(g);
        plans.add(g.groups().plan(g.graph().snapshot()));
    }

    int contextLength() {
        return contextLength;
    }

    /** This instance for one sequence: {@link #close} passes it to {@code onClose} instead of freeing it. */
    TornadoForward lease(BiConsumer<LanguageModel, TornadoForward> onClose) {
        this.onClose = onClose;
        return this;
    }

    @Override
    public String device() {
        return device;
    }

    /** Device bytes this sequence holds (weights, KV cache, scratch). */
    long deviceBytes() {
        long b = 0;
        for (DecodeGraph g : segments) b += g.deviceBytes();
        return b;
    }

    @Override
    public float[] forward(int token, int pos) {
        // The input row on the host: the embedding table stays in the mapped file (one row per step).
        Dequant.row(weights.tokenEmbedding(), token, row, 0);
        if (positionRow != null) {
            Dequant.row(weights.positionEmbedding(), pos + config.positionOffset(), positionRow, 0);
            for (int i = 0; i < row.length; i++) row[i] += positionRow[i];
        }
        // The bundle FFN computes its cache rows here only during this step: the CPU pass that
        // cross-checks the first token must run the CPU's own FFN.
        if (bundleFfn != null) bundleFfn.computeCachedRowsWith(bundleRows);
        try {
            runSegments(pos);
        } finally {
            if (bundleFfn != null) bundleFfn.computeCachedRowsWith(null);
        }
        MemorySegment.copy(segments.getLast().logits.getSegment(), ValueLayout.JAVA_FLOAT, 0, out, 0, out.length);
        return out;
    }

    private void runSegments(int pos) {
        for (int s = 0; s < segments.size(); s++) {
            DecodeGraph g = segments.get(s);
            MemorySegment.copy(row, 0, g.x.getSegment(), ValueLayout.JAVA_FLOAT, 0, row.length);
            g.pos.set(0, pos);
            plans.get(s).execute();
            if (s == segments.size() - 1) break;
            MemorySegment.copy(g.x.getSegment(), ValueLayout.JAVA_FLOAT, 0, row, 0, row.length);
            if (hostFfn != null) {
                // The layer's FFN on the host (neuron cache), added to the stream as the CPU pass does.
                MemorySegment.copy(g.ffnIn.getSegment(), ValueLayout.JAVA_FLOAT, 0, ffnIn, 0, ffnIn.length);
                hostFfn.forward(s, ffnIn, ffnOut);
                for (int i = 0; i < row.length; i++) row[i] += ffnOut[i];
            }
        }
    }

    /** Neuron-cache rows sent to the device so far (0 without a bundle FFN on the device). */
    long bundleRowsSent() {
        return bundleRows == null ? 0 : bundleRows.rowsSent();
    }

    @Override
    public void close() {
        BiConsumer<LanguageModel, TornadoForward> back = onClose;
        onClose = null;
        if (back != null) {
            back.accept(model, this);
        } else {
            free();
        }
    }

    /** Frees the device memory of this instance. */
    void free() {
        IllegalStateException failure = null;
        for (TornadoExecutionPlan p : plans) {
            try {
                p.freeDeviceMemory();
                p.close();
            } catch (TornadoExecutionPlanException | RuntimeException e) {
                if (failure == null) failure = new IllegalStateException("releasing " + device + " failed", e);
            }
        }
        plans.clear();
        if (bundleRows != null) bundleRows.close();
        if (failure != null) throw failure;
    }
}
