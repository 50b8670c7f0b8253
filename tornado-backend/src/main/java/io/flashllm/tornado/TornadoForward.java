package io.flashllm.tornado;

import io.flashllm.engine.model.DeviceForward;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.model.ModelConfig;
import io.flashllm.engine.model.ModelWeights;
import io.flashllm.kernels.Dequant;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * One sequence on a TornadoVM device: a {@link DecodeGraph} in an execution plan. The first step
 * compiles every task (TornadoVM JIT, then the device's compiler) and uploads the weights; later
 * steps move the input row, the position and the logits only. Closing a leased instance hands it
 * back to {@link TornadoBackend} for the model's next sequence; {@link #free} releases the device.
 */
final class TornadoForward implements DeviceForward {
    private static final AtomicInteger PLANS = new AtomicInteger();

    private final LanguageModel model;
    private final int contextLength;
    private BiConsumer<LanguageModel, TornadoForward> onClose;
    private final ModelConfig config;
    private final ModelWeights weights;
    private final DecodeGraph graph;
    private final TornadoExecutionPlan plan;
    private final String device;
    private final float[] row;
    private final float[] positionRow;
    private final float[] out;

    TornadoForward(LanguageModel model, int contextLength) {
        RuntimeFlags.apply();
        this.model = model;
        this.contextLength = contextLength;
        this.config = model.config();
        this.weights = model.weights();
        this.graph = DecodeGraph.build("flashllm" + PLANS.incrementAndGet(), config, weights, contextLength);
        this.plan = new TornadoExecutionPlan(graph.graph().snapshot());
        var d = plan.getDevice(0);
        this.device = "tornado: " + d.getPlatformName().trim() + " / " + d.getDescription().trim();
        this.row = new float[config.dim()];
        this.positionRow = weights.positionEmbedding() == null ? null : new float[config.dim()];
        this.out = new float[config.vocabSize()];
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
        return graph.deviceBytes();
    }

    @Override
    public float[] forward(int token, int pos) {
        // The input row on the host: the embedding table stays in the mapped file (one row per step).
        Dequant.row(weights.tokenEmbedding(), token, row, 0);
        if (positionRow != null) {
            Dequant.row(weights.positionEmbedding(), pos + config.positionOffset(), positionRow, 0);
            for (int i = 0; i < row.length; i++) row[i] += positionRow[i];
        }
        MemorySegment.copy(row, 0, graph.x.getSegment(), ValueLayout.JAVA_FLOAT, 0, row.length);
        graph.pos.set(0, pos);
        plan.execute();
        MemorySegment.copy(graph.logits.getSegment(), ValueLayout.JAVA_FLOAT, 0, out, 0, out.length);
        return out;
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
        try {
            plan.freeDeviceMemory();
            plan.close();
        } catch (TornadoExecutionPlanException e) {
            throw new IllegalStateException("releasing " + device + " failed", e);
        }
    }
}
