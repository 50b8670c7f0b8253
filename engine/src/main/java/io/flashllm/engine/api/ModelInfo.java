package io.flashllm.engine.api;

/**
 * What the server and CLI say about a loaded model.
 *
 * @param embeddingLength the width of its hidden states, and so of its embeddings
 */
public record ModelInfo(String id, String architecture, int contextLength, int vocabSize, long parameterCount,
                        int embeddingLength) {}
