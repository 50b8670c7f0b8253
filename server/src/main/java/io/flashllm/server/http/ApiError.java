package io.flashllm.server.http;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An error the client caused or must hear about, in OpenAI's shape:
 * {@code {"error":{"message","type","param","code"}}}.
 */
final class ApiError extends RuntimeException {
    final int status;
    final String type;
    final String param;
    final String code;

    ApiError(int status, String type, String code, String param, String message) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
    }

    static ApiError invalid(String param, String message) {
        return new ApiError(400, "invalid_request_error", "invalid_value", param, message);
    }

    static ApiError invalid(String param, String code, String message) {
        return new ApiError(400, "invalid_request_error", code, param, message);
    }

    static ApiError unsupported(String param, String message) {
        return new ApiError(400, "invalid_request_error", "unsupported_parameter", param, message);
    }

    static ApiError notFound(String message) {
        return new ApiError(404, "invalid_request_error", "not_found", null, message);
    }

    /** 404 from /v1/models/{id}; 400 where a request body names a model this server does not serve. */
    static ApiError modelNotFound(int status, String model) {
        return new ApiError(status, "invalid_request_error", "model_not_found", "model",
                "The model '" + model + "' does not exist");
    }

    static ApiError unauthorized(String message) {
        return new ApiError(401, "authentication_error", "invalid_api_key", null, message);
    }

    static ApiError queueFull() {
        return new ApiError(429, "rate_limit_error", "queue_full", null,
                "All generation slots are busy and the queue is full; retry later");
    }

    static ApiError unavailable(String code, String message) {
        return new ApiError(503, "server_error", code, null, message);
    }

    static ApiError internal(String message) {
        return new ApiError(500, "server_error", "internal_error", null, message);
    }

    ObjectNode toJson() {
        return body(getMessage(), type, param, code);
    }

    static ObjectNode body(String message, String type, String param, String code) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode err = f.objectNode();
        err.put("message", message);
        err.put("type", type);
        if (param == null) err.putNull("param"); else err.put("param", param);
        if (code == null) err.putNull("code"); else err.put("code", code);
        ObjectNode root = f.objectNode();
        root.set("error", err);
        return root;
    }
}
