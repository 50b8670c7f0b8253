package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.ext.web.RoutingContext;

/**
 * What a POST endpoint does with a ready model and the request's JSON object. {@link #serve} does what
 * every such endpoint does first (the model must be ready, the body one JSON object) and answers any
 * {@link ApiError} it or the endpoint throws, in the shape of the API the path belongs to.
 */
@FunctionalInterface
interface JsonEndpoint {
    void handle(RoutingContext ctx, ModelState s, JsonNode body, long arrivalNanos);

    static void serve(RoutingContext ctx, ModelState s, JsonEndpoint endpoint) {
        long arrival = ctx.get(ApiServer.ARRIVAL_KEY);
        try {
            ApiServer.requireReady(s);
            endpoint.handle(ctx, s, Json.parseObject(BodyReader.body(ctx)), arrival);
        } catch (ApiError e) {
            Responses.error(ctx, e);
        }
    }
}
