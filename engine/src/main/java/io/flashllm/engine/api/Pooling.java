package io.flashllm.engine.api;

import java.util.Locale;
import java.util.Map;

/**
 * How a text's embedding is made from the final hidden states of its tokens (after the model's final
 * norm), as llama.cpp's {@code --pooling}: their mean, the first token's (CLS), or the last token's.
 * Under causal attention only the last token has seen the whole text, which is why decoder models
 * trained as embedders (e5-mistral, gte-Qwen2) read theirs from it.
 */
public enum Pooling {
    MEAN, CLS, LAST;

    /** The GGUF key that declares a model's pooling: {@code <architecture>.pooling_type}. */
    public static String ggufKey(String architecture) {
        return architecture + ".pooling_type";
    }

    /**
     * The pooling a GGUF file declares under {@link #ggufKey} (llama.cpp's numbering: 1 mean, 2 cls,
     * 3 last), or null when it declares none, or "none" (0), or one flashllm does not make (4, rank).
     */
    public static Pooling declaredIn(Map<String, Object> metadata) {
        if (metadata == null || !(metadata.get("general.architecture") instanceof String arch)) return null;
        if (!(metadata.get(ggufKey(arch)) instanceof Number n)) return null;
        return switch (n.intValue()) {
            case 1 -> MEAN;
            case 2 -> CLS;
            case 3 -> LAST;
            default -> null;
        };
    }

    /** The pooling to use: the one asked for, else the one the model declares, else the last token's. */
    public static Pooling resolve(Pooling asked, Pooling declared) {
        return asked != null ? asked : declared != null ? declared : LAST;
    }

    /** mean, cls or last, any case. */
    public static Pooling parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "mean" -> MEAN;
            case "cls" -> CLS;
            case "last" -> LAST;
            default -> throw new IllegalArgumentException("pooling '" + name + "' is not one of mean, cls, last");
        };
    }

    /** The name {@link #parse} reads. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
