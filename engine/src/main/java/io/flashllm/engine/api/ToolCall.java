package io.flashllm.engine.api;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A call of a function: its id (the API's, null where there is none), the function's name and its arguments
 * as JSON (OpenAI sends them as JSON text, Ollama as an object; both arrive here parsed).
 */
public record ToolCall(String id, String name, JsonNode arguments) {}
