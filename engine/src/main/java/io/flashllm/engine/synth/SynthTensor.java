package io.flashllm.engine.synth;

import io.flashllm.kernels.GgmlType;

/**
 * One tensor of a synthesized model, in Hugging Face orientation ({@code rows x cols}, a vector
 * has one row). {@code permuteHeads > 0} marks a Llama q/k projection whose GGUF rows are
 * reordered for interleaved-pair RoPE, the way llama.cpp's converter does. {@code experts > 1}: a layer's
 * experts stacked in one GGUF tensor ({@code rows} covers them all).
 */
record SynthTensor(
        String hfName,
        String ggufName,
        String role,
        int layer,
        long rows,
        int cols,
        boolean vector,
        float center,
        float std,
        int permuteHeads,
        GgmlType ggufType,
        GgmlType hfType,
        int experts) {

    SynthTensor(String hfName, String ggufName, String role, int layer, long rows, int cols, boolean vector, float center,
                float std, int permuteHeads, GgmlType ggufType, GgmlType hfType) {
        this(hfName, ggufName, role, layer, rows, cols, vector, center, std, permuteHeads, ggufType, hfType, 1);
    }

    long elements() {
        return rows * cols;
    }

    /** ggml order: innermost dimension first; every expert's matrix of a layer stacked as a third dimension. */
    long[] ggufShape() {
        if (vector) return new long[] {cols};
        return experts > 1 ? new long[] {cols, rows / experts, experts} : new long[] {cols, rows};
    }

    /** safetensors order: outermost dimension first. */
    long[] hfShape() {
        return vector ? new long[] {cols} : new long[] {rows, cols};
    }

    /**
     * The HF row stored at GGUF row {@code r}. llama.cpp's permute views each head's rows as
     * (2, headDim/2) and swaps the axes, so GGUF row 2i of a head is HF row i and GGUF row 2i+1 is
     * HF row i + headDim/2: the half-split rotation pairs become adjacent pairs.
     */
    long hfRowOfGgufRow(long r) {
        if (permuteHeads == 0) return r;
        long headDim = rows / permuteHeads;
        long head = r / headDim;
        long i = r % headDim;
        return head * headDim + (i % 2) * (headDim / 2) + i / 2;
    }
}
