package io.flashllm.engine.synth;

import io.flashllm.kernels.GgmlType;

/**
 * One tensor of a synthesized model, in Hugging Face orientation ({@code rows x cols}, a vector
 * has one row). {@code permuteHeads > 0} marks a Llama q/k projection whose GGUF rows are
 * reordered for interleaved-pair RoPE, the way llama.cpp's converter does.
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
        GgmlType hfType) {

    long elements() {
        return rows * cols;
    }

    /** ggml order: innermost dimension first. */
    long[] ggufShape() {
        return vector ? new long[] {cols} : new long[] {cols, rows};
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
