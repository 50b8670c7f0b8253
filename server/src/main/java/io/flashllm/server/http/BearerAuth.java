package io.flashllm.server.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Set;

/**
 * Checks "Authorization: Bearer KEY" in constant time. Both sides are hashed first so that
 * MessageDigest.isEqual compares equal-length arrays and the key's length does not leak either.
 */
final class BearerAuth implements Handler<RoutingContext> {
    private final byte[] expectedHash;
    private final Set<String> openPaths;

    BearerAuth(String apiKey, Set<String> openPaths) {
        this.expectedHash = sha256(apiKey);
        this.openPaths = openPaths;
    }

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    boolean accepts(String authorizationHeader) {
        if (authorizationHeader == null) return false;
        String h = authorizationHeader.trim();
        if (h.length() < 7 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) return false;
        return MessageDigest.isEqual(expectedHash, sha256(h.substring(7).trim()));
    }

    @Override
    public void handle(RoutingContext ctx) {
        if (openPaths.contains(ctx.normalizedPath()) || accepts(ctx.request().getHeader("Authorization"))) {
            ctx.next();
            return;
        }
        String h = ctx.request().getHeader("Authorization");
        Responses.error(ctx, ApiError.unauthorized(h == null
                ? "Missing API key: send 'Authorization: Bearer <key>'"
                : "Invalid API key"));
    }
}
