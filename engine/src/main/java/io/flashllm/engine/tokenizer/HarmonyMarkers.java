package io.flashllm.engine.tokenizer;

import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * gpt-oss's vocabulary (o200k_harmony) as llama.cpp treats it, for every tokenizer flashllm reads: the markers of its
 * channels and messages are special tokens that show in decoded text (the reasoning is told from the answer by
 * them), and {@code <|end|>}, which closes its analysis before it goes on to its answer, does not end generation
 * where {@code <|return|>} and {@code <|call|>} (the ends of a reply) exist.
 */
final class HarmonyMarkers {
    private static final Set<String> SHOWN = Set.of("<|channel|>", "<|message|>", "<|start|>", "<|constrain|>");

    private HarmonyMarkers() {}

    /** Whether a special token with this text shows in decoded text. */
    static boolean shown(String text) {
        return SHOWN.contains(text);
    }

    /** Takes {@code <|end|>} out of {@code eog} for a harmony vocabulary; {@code id} gives -1 for a text it lacks. */
    static void adjustEndOfGeneration(Set<Integer> eog, ToIntFunction<String> id, int eos) {
        int end = id.applyAsInt("<|end|>");
        if (id.applyAsInt("<|return|>") >= 0 && id.applyAsInt("<|call|>") >= 0 && end >= 0 && end != eos) eog.remove(end);
    }
}
