package io.flashllm.engine.synth;

import java.util.Locale;

/** Where synth writes: one GGUF file, or a Hugging Face directory (config.json, safetensors, tokenizer.json). */
public enum SynthFormat {
    GGUF, HF;

    public static SynthFormat parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "gguf" -> GGUF;
            case "hf", "safetensors" -> HF;
            default -> throw new IllegalArgumentException("unknown format '" + s + "' (gguf or hf)");
        };
    }
}
