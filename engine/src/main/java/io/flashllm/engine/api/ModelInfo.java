package io.flashllm.engine.api;

/** What the server and CLI say about a loaded model. */
public record ModelInfo(String id, String architecture, int contextLength, int vocabSize, long parameterCount) {}
