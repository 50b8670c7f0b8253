package io.flashllm.engine.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;

/**
 * An accelerator that runs a whole decode step (every layer and the classifier) with its own
 * resident weights and KV cache. Backends are found through {@link ServiceLoader}: the engine has no
 * compile-time dependency on any of them (the TornadoVM one lives in the optional
 * {@code tornado-backend} module, built with {@code -Ptornado}).
 */
public interface DeviceBackend {

    /** The name {@code --backend} selects, e.g. {@code "tornado"}. */
    String name();

    /**
     * Null when this backend can run here; otherwise what is missing and how to get it (the runtime
     * was not started with the SDK's flags, no device, ...).
     */
    String unavailableReason();

    /** Whether {@link #open} supports this model (architecture and weight types); null when it does, else why not. */
    String unsupportedReason(LanguageModel model);

    /**
     * A device-resident copy of {@code model} with a KV cache of {@code contextLength} positions. A
     * backend may hand out one that an earlier, closed sequence of the same model used (compiled
     * kernels and uploaded weights are the expensive part; a KV cache needs no clearing, since a
     * sequence writes each position before it reads it).
     */
    DeviceForward open(LanguageModel model, int contextLength);

    /** Frees whatever {@link #open} kept for reuse with {@code model}; called when the model closes. */
    default void release(LanguageModel model) {}

    /** The name of the default, in-process backend (no device). */
    String CPU = "cpu";

    /**
     * The backend called {@code name}, ready to run: fails with a message that says how to get it
     * when it is not on the class path or its runtime is absent. Null for {@value #CPU}.
     */
    static DeviceBackend require(String name) {
        if (name == null || name.equalsIgnoreCase(CPU)) return null;
        String wanted = name.toLowerCase(Locale.ROOT);
        List<String> found = new ArrayList<>();
        for (DeviceBackend b : ServiceLoader.load(DeviceBackend.class)) {
            if (b.name().equals(wanted)) {
                String why = b.unavailableReason();
                if (why != null) throw new IllegalStateException("backend '" + wanted + "' cannot run: " + why);
                return b;
            }
            found.add(b.name());
        }
        String how = wanted.equals("tornado")
                ? "build flashllm with the TornadoVM profile (TORNADOVM_HOME set, ./mvnw -Ptornado package) and start it"
                        + " through bin/flashllm with TORNADOVM_HOME set; README, section \"GPU (TornadoVM)\""
                : "known backends: cpu" + (found.isEmpty() ? "" : ", " + String.join(", ", found));
        throw new IllegalStateException("backend '" + wanted + "' is not available: " + how);
    }
}
