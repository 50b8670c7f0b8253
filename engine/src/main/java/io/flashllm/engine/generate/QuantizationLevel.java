package io.flashllm.engine.generate;

import io.flashllm.engine.model.ModelWeights;
import io.flashllm.kernels.GgmlType;
import java.util.Map;

/**
 * What a model's weights are quantized to, as Ollama's {@code quantization_level} names it: the file type the
 * GGUF file declares ({@code general.file_type}, llama.cpp's {@code llama_ftype}: "Q4_K_M", "Q8_0", "MXFP4" for
 * gpt-oss's MXFP4_MOE files), else the type of the first layer's attention matrices (a Hugging Face directory,
 * a file that declares none).
 */
public final class QuantizationLevel {
    /** llama_ftype names by value; the gaps are types llama.cpp retired. */
    private static final Map<Integer, String> FILE_TYPES = Map.ofEntries(
            Map.entry(0, "F32"), Map.entry(1, "F16"), Map.entry(2, "Q4_0"), Map.entry(3, "Q4_1"),
            Map.entry(7, "Q8_0"), Map.entry(8, "Q5_0"), Map.entry(9, "Q5_1"), Map.entry(10, "Q2_K"),
            Map.entry(11, "Q3_K_S"), Map.entry(12, "Q3_K_M"), Map.entry(13, "Q3_K_L"), Map.entry(14, "Q4_K_S"),
            Map.entry(15, "Q4_K_M"), Map.entry(16, "Q5_K_S"), Map.entry(17, "Q5_K_M"), Map.entry(18, "Q6_K"),
            Map.entry(19, "IQ2_XXS"), Map.entry(20, "IQ2_XS"), Map.entry(21, "Q2_K_S"), Map.entry(22, "IQ3_XS"),
            Map.entry(23, "IQ3_XXS"), Map.entry(24, "IQ1_S"), Map.entry(25, "IQ4_NL"), Map.entry(26, "IQ3_S"),
            Map.entry(27, "IQ3_M"), Map.entry(28, "IQ2_S"), Map.entry(29, "IQ2_M"), Map.entry(30, "IQ4_XS"),
            Map.entry(31, "IQ1_M"), Map.entry(32, "BF16"), Map.entry(36, "TQ1_0"), Map.entry(37, "TQ2_0"),
            Map.entry(38, "MXFP4"));

    private QuantizationLevel() {}

    /** @param ggufMetadata the file's metadata, or null for a Hugging Face directory */
    public static String of(Map<String, Object> ggufMetadata, ModelWeights weights) {
        Object declared = ggufMetadata == null ? null : ggufMetadata.get("general.file_type");
        if (declared instanceof Number n) {
            String name = FILE_TYPES.get(n.intValue());
            if (name != null) return name;
        }
        if (weights.layers().isEmpty() || weights.layers().getFirst().wq() == null) return "";
        GgmlType t = weights.layers().getFirst().wq().type();
        return t.name();
    }
}
