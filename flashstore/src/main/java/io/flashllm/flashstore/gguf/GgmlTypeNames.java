package io.flashllm.flashstore.gguf;

/**
 * Names of every ggml tensor type id, so a file using a type flashllm cannot compute with gets a
 * message naming it ("IQ2_XXS") rather than a bare number.
 */
final class GgmlTypeNames {
    private static final String[] NAMES = {
        "F32", "F16", "Q4_0", "Q4_1", null, null, "Q5_0", "Q5_1", "Q8_0", "Q8_1",
        "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
        "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M",
        "BF16", null, null, null, "TQ1_0", "TQ2_0", null, null, null, "MXFP4",
    };

    private GgmlTypeNames() {}

    /** The ggml name of type {@code id}, or null when ggml defines no such type. */
    static String name(long id) {
        return id >= 0 && id < NAMES.length ? NAMES[(int) id] : null;
    }
}
