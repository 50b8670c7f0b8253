package io.flashllm.tornado;

import io.flashllm.engine.model.Architecture;
import io.flashllm.engine.model.DeviceBackend;
import io.flashllm.engine.model.DeviceForward;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.model.ModelWeights;

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
                    + " through bin/flashllm, which passes @$TORNADOVM_HOME/tornado-argfile (README, \"GPU (TornadoVM)\")";
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
        if (w.ffn().isEmpty()) {
            return "the FFN of a flash bundle is read through the neuron cache on the CPU; the device runs models"
                    + " whose FFN is in the model file";
        }
        if (model.config().architecture() == Architecture.OPT && (w.projectIn() != null || w.projectOut() != null)) {
            return "OPT's word-embedding projections (project_in/project_out) have no device kernel";
        }
        return null;
    }

    @Override
    public DeviceForward open(LanguageModel model, int contextLength) {
        return new TornadoForward(model, contextLength);
    }
}
