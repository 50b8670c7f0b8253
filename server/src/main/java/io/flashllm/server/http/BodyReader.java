package io.flashllm.server.http;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * Collects the raw request body up to a limit, whatever its Content-Type: clients such as
 * {@code curl -d} label JSON as a form, which a form-parsing body handler would reject. A declared
 * length over the limit fails at once with 413; an undeclared (chunked) one fails as soon as it passes it.
 */
final class BodyReader implements Handler<RoutingContext> {
    private static final String KEY = "flashllm.body";

    private final long limit;

    BodyReader(long limit) {
        this.limit = limit;
    }

    /** The body read for this request (empty when there was none). */
    static byte[] body(RoutingContext ctx) {
        Buffer b = ctx.get(KEY);
        return b == null ? new byte[0] : b.getBytes();
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpServerRequest req = ctx.request();
        String declared = req.getHeader("Content-Length");
        if (declared != null) {
            long n;
            try {
                n = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 0) {
                Responses.error(ctx, ApiError.invalid(null, "malformed_http", "Invalid Content-Length"));
                return;
            }
            if (n > limit) {
                ctx.fail(413);
                return;
            }
        }
        if (req.isEnded()) {
            ctx.next();
            return;
        }
        Buffer acc = Buffer.buffer();
        boolean[] failed = {false};
        req.handler(chunk -> {
            if (failed[0]) return;
            if (acc.length() + (long) chunk.length() > limit) {
                failed[0] = true;
                ctx.fail(413);
                return;
            }
            acc.appendBuffer(chunk);
        });
        req.exceptionHandler(t -> {
            if (!failed[0]) {
                failed[0] = true;
                ctx.fail(t);
            }
        });
        req.endHandler(v -> {
            if (failed[0]) return;
            ctx.put(KEY, acc);
            ctx.next();
        });
        req.resume();
    }
}
