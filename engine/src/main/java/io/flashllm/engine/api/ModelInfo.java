package io.flashllm.engine.api;

/**
 * What the server and CLI say about a loaded model.
 *
 * @param embeddingLength the width of its hidden states, and so of its embeddings
 * @param quantization    what its weights are quantized to, as llama.cpp names its file types ("Q4_K_M", "Q8_0",
 *                        "F16"); empty when unknown
 */
public record ModelInfo(String id, String architecture, int contextLength, int vocabSize, long parameterCount,
                        int embeddingLength, String quantization) {}
