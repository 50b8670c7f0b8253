package io.flashllm.engine.model;

import io.flashllm.flashstore.ModelFileException;
import io.flashllm.flashstore.ffn.FfnActivation;

import java.nio.file.Path;

/** Activation names as configs spell them, mapped onto {@link FfnActivation}. */
final class Activations {
    private Activations() {}

    static FfnActivation parse(String name, float threshold, boolean gated, Path file) {
        FfnActivation.Kind kind = switch (name) {
            case "silu", "swish" -> gated ? FfnActivation.Kind.GATED_SILU : null;
            case "relu" -> gated ? FfnActivation.Kind.GATED_RELU : FfnActivation.Kind.RELU_NO_GATE;
            case "fatrelu" -> gated ? FfnActivation.Kind.GATED_FATRELU : null;
            case "gelu", "gelu_pytorch_tanh", "gelu_tanh" -> gated ? FfnActivation.Kind.GATED_GELU : null;
            default -> null;
        };
        if (kind == null) {
            throw new ModelFileException(file, "FFN activation '" + name + "' is not supported for a "
                    + (gated ? "gated FFN (silu, relu, fatrelu, gelu are)" : "FFN without gate (relu is)"));
        }
        if (kind == FfnActivation.Kind.GATED_FATRELU && !(threshold >= 0 && Float.isFinite(threshold))) {
            throw new ModelFileException(file, "FATReLU threshold must be a non-negative number, got " + threshold);
        }
        return new FfnActivation(kind, kind == FfnActivation.Kind.GATED_FATRELU ? threshold : 0f);
    }
}
