package io.flashllm.engine.synth;

import java.util.Arrays;
import java.util.Locale;

/** The model families synth can write. */
public enum SynthArch {
    /** Llama with a SiLU-gated FFN. */
    LLAMA("llama"),
    /** Llama whose gated FFN uses ReLU, or FATReLU with a threshold chosen for a target sparsity. */
    LLAMA_RELU("llama-relu"),
    /** OPT: learned positions, LayerNorm with biases, ReLU FFN without gate, tied output. */
    OPT("opt");

    public final String cliName;

    SynthArch(String cliName) {
        this.cliName = cliName;
    }

    public boolean llamaFamily() {
        return this != OPT;
    }

    public static SynthArch parse(String s) {
        String k = s.trim().toLowerCase(Locale.ROOT);
        for (SynthArch a : values()) {
            if (a.cliName.equals(k)) return a;
        }
        throw new IllegalArgumentException("unknown architecture '" + s + "' (one of "
                + String.join(", ", Arrays.stream(values()).map(a -> a.cliName).toList()) + ")");
    }
}
