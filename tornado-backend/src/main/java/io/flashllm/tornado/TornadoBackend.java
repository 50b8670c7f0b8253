package io.flashllm.tornado;

import io.flashllm.engine.model.Architecture;
import io.flashllm.engine.model.DeviceBackend;
import io.flashllm.engine.model.DeviceForward;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.model.ModelWeights;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --backend tornado}: the decode step as TornadoVM kernels on the SDK's default device
 * (select another with TornadoVM's {@code -Dtornado.device=...} flags). Registered for
 * {@link java.util.ServiceLoader}; nothing of TornadoVM is touched until {@link #open}, so the class
 * loads (and explains what is missing) in a JVM started without the SDK.
 */
public final class TornadoBackend implements DeviceBackend {
    /** What the SDK's argfile sets; without it the TornadoVM runtime is not on the module path. */
    static final String RUNTIME_PROPERTY = "tornado.load.runtime.implementation";

    @Override
    public String name() {
        return "tornado";
    }

    @Override
    public String unavailableReason() {
        if (System.getProperty(RUNTIME_PROPERTY) == null) {
            return "the JVM was not started with TornadoVM's flags: set TORNADOVM_HOME to a TornadoVM SDK and start"
                    + " through bin/flashllm, which passes @$TORNADOVM_HOME/tornado-argfile"
                    + " (README, \"GPU (TornadoVM)\")";
        }
        try {
            Class.forName("uk.ac.manchester.tornado.api.TaskGraph");
        } catch (ClassNotFoundException | LinkageError e) {
            return "the TornadoVM API is not on the module path (" + e + "); check TORNADOVM_HOME";
        }
        return null;
    }

    @Override
    public String unsupportedReason(LanguageModel model) {
        ModelWeights w = model.weights();
        if (w.ffn().isEmpty() && model.config().architecture() == Architecture.OPT && !model.config().preNorm()) {
            // A bundle's FFN runs on the host between device segments; post-norm OPT would need its
            // LayerNorm after the FFN there too.
            return "a flash bundle of a post-norm OPT (opt-350m) has no device path";
        }
        if (model.config().architecture() == Architecture.QWEN3 || model.config().architecture() == Architecture.GEMMA3) {
            return model.config().architecture() + "'s per-head q/k norms have no device kernel";
        }
        if (model.config().multipliers().any()) {
            return "Granite's embedding, residual and logit scalars have no device kernel";
        }
        if (model.config().experts().moe()) {
            return "a mixture of experts (" + model.config().ggufArchitecture() + ") has no device path";
        }
        if (model.config().architecture() == Architecture.GEMMA2) {
            return "Gemma 2's soft-capped attention has no device kernel";
        }
        if (model.config().rope().mscale() != 1f) {
            return "the rotation's attention factor (LongRoPE of Phi-3 128k, YaRN) has no device kernel";
        }
        if (model.config().architecture() == Architecture.OPT && (w.projectIn() != null || w.projectOut() != null)) {
            return "OPT's word-embedding projections (project_in/project_out) have no device kernel";
        }
        return null;
    }

    /** Closed sequences' device state per model, for the next sequence of the same context length. */
    private final Map<LanguageModel, List<TornadoForward>> idle = new IdentityHashMap<>();

    /**
     * Device KV caches hold at least this many positions (or the model's context, if shorter), so
     * that sequences of different lengths can reuse one compiled instance.
     */
    static final int MIN_DEVICE_CONTEXT = 4096;

    @Override
    public DeviceForward open(LanguageModel model, int contextLength) {
        TornadoForward f = null;
        synchronized (idle) {
            List<TornadoForward> free = idle.get(model);
            if (free != null) {
                for (int i = 0; i < free.size() && f == null; i++) {
                    if (free.get(i).contextLength() >= contextLength) f = free.remove(i);
                }
            }
        }
        if (f == null) {
            int positions = Math.max(contextLength, Math.min(model.config().contextLength(), MIN_DEVICE_CONTEXT));
            f = new TornadoForward(model, positions);
        }
        return f.lease(this::giveBack);
    }

    private void giveBack(LanguageModel model, TornadoForward f) {
        synchronized (idle) {
            idle.computeIfAbsent(model, m -> new ArrayList<>()).add(f);
        }
    }

    @Override
    public void release(LanguageModel model) {
        List<TornadoForward> free;
        synchronized (idle) {
            free = idle.remove(model);
        }
        if (free != null) free.forEach(TornadoForward::free);
    }
}
