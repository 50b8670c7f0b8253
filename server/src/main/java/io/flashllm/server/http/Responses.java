package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/**
 * Writes JSON bodies and errors in the shape of the API the request went to: Ollama's
 * {@code {"error": "..."}} under {@code /api/}, OpenAI's {@code {"error":{...}}} everywhere else (auth, size
 * and routing failures included, so an Ollama client reads every error it gets). Event loop only.
 */
final class Responses {
    private Responses() {}

    static void json(RoutingContext ctx, int status, JsonNode body) {
        HttpServerResponse r = ctx.response();
        if (r.ended() || r.closed()) return;
        r.setStatusCode(status).putHeader("Content-Type", "application/json; charset=utf-8").end(Json.write(body));
    }

    /** Whether the request went to Ollama's API. */
    static boolean ollama(RoutingContext ctx) {
        return ctx.request().path().startsWith("/api/");
    }

    static void error(RoutingContext ctx, ApiError e) {
        HttpServerResponse r = ctx.response();
        if (r.ended() || r.closed()) return;
        boolean ollama = ollama(ctx);
        String body = ollama ? Json.write(Json.MAPPER.createObjectNode().put("error", e.getMessage())) : Json.write(e.toJson());
        if (r.headWritten()) {
            // Too late for a status line; a stream reports it as its last event (SSE) or line (NDJSON) and ends.
            r.end(ollama ? body + "\n" : OpenAiWire.event(body));
            return;
        }
        switch (e.status) {
            case 401 -> r.putHeader("WWW-Authenticate", "Bearer");
            case 429 -> r.putHeader("Retry-After", "1");
            case 503 -> r.putHeader("Retry-After", "5");
            default -> { }
        }
        r.setStatusCode(e.status).putHeader("Content-Type", "application/json; charset=utf-8").end(body);
    }

    /** Maps any failure to an error response: ApiErrors as they are, anything else as a 500 that leaks no internals. */
    static void failure(RoutingContext ctx, Throwable t) {
        if (t instanceof ApiError e) {
            error(ctx, e);
        } else {
            System.getLogger(Responses.class.getName()).log(System.Logger.Level.ERROR, "request failed", t);
            error(ctx, ApiError.internal("Internal error: " + t.getClass().getSimpleName()));
        }
    }
}
