package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/** Writes JSON bodies and OpenAI-shaped errors. Event loop only. */
final class Responses {
    private Responses() {}

    static void json(RoutingContext ctx, int status, JsonNode body) {
        HttpServerResponse r = ctx.response();
        if (r.ended() || r.closed()) return;
        r.setStatusCode(status).putHeader("Content-Type", "application/json; charset=utf-8").end(Json.write(body));
    }

    static void error(RoutingContext ctx, ApiError e) {
        error(ctx, e, null);
    }

    /** An error in the shape of the request's API (OpenAI's when null). */
    static void error(RoutingContext ctx, ApiError e, ErrorShape wire) {
        HttpServerResponse r = ctx.response();
        if (r.ended() || r.closed()) return;
        if (r.headWritten()) {
            // Too late for a status line; a stream reports it as an event and ends.
            r.end(wire != null ? wire.streamedError(e) : OpenAiWire.event(Json.write(e.toJson())));
            return;
        }
        switch (e.status) {
            case 401 -> r.putHeader("WWW-Authenticate", "Bearer");
            case 429 -> r.putHeader("Retry-After", "1");
            case 503 -> r.putHeader("Retry-After", "5");
            default -> { }
        }
        if (wire == null) {
            json(ctx, e.status, e.toJson());
        } else {
            r.setStatusCode(e.status).putHeader("Content-Type", "application/json; charset=utf-8").end(wire.errorBody(e));
        }
    }

    /** Maps any failure to an error response: ApiErrors as they are, anything else as a 500 that leaks no internals. */
    static void failure(RoutingContext ctx, Throwable t) {
        failure(ctx, t, null);
    }

    static void failure(RoutingContext ctx, Throwable t, ErrorShape shape) {
        if (t instanceof ApiError e) {
            error(ctx, e, shape);
        } else {
            System.getLogger(Responses.class.getName()).log(System.Logger.Level.ERROR, "request failed", t);
            error(ctx, ApiError.internal("Internal error: " + t.getClass().getSimpleName()), shape);
        }
    }
}
