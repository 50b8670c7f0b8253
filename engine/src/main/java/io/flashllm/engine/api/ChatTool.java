package io.flashllm.engine.api;

import com.fasterxml.jackson.databind.JsonNode;

/** A function the model may call: its name, what it does (may be null) and the JSON schema of its arguments. */
public record ChatTool(String name, String description, JsonNode parameters) {}
