package io.flashllm.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** One shared Jackson mapper: strict about trailing garbage, bounded nesting, compact output. */
final class Json {
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    static {
        // Deep nesting is the cheap way to make a parser burn stack; no request needs more than a few levels.
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
    }

    private Json() {}

    static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JsonNode always serializes", e);
        }
    }

    /** Parses a request body; anything but one JSON object is a 400. */
    static JsonNode parseObject(byte[] body) {
        if (body == null || body.length == 0) {
            throw ApiError.invalid(null, "invalid_json", "The request body is empty; expected a JSON object");
        }
        JsonNode n;
        try {
            n = MAPPER.readTree(body);
        } catch (java.io.IOException e) {
            String detail = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
            throw ApiError.invalid(null, "invalid_json", "The request body is not valid JSON: " + detail);
        }
        if (n == null || !n.isObject()) {
            throw ApiError.invalid(null, "invalid_json", "The request body must be a JSON object");
        }
        return n;
    }
}
