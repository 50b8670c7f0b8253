package io.flashllm.server.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Closes connections that hold resources without using them: idle keep-alive connections (and ones
 * still trickling in their headers) after the idle timeout, and requests whose body has not fully
 * arrived within the read timeout. Unlike a plain socket idle timeout it never cuts a request that is
 * waiting for a long generation, which sends nothing until it is done.
 */
final class ConnectionGuard {
    private static final class State {
        int inFlight;
        long lastActiveNanos = System.nanoTime();
        long bodyDeadlineNanos;
    }

    private final Map<HttpConnection, State> connections = new ConcurrentHashMap<>();
    private final long idleNanos;
    private final long readNanos;
    private final long timer;
    private final Vertx vertx;

    ConnectionGuard(Vertx vertx, int idleTimeoutSeconds, int readTimeoutSeconds) {
        this.vertx = vertx;
        this.idleNanos = idleTimeoutSeconds * 1_000_000_000L;
        this.readNanos = readTimeoutSeconds * 1_000_000_000L;
        long period = Math.max(50, Math.min(1000, Math.min(idleTimeoutSeconds, readTimeoutSeconds) * 250L));
        this.timer = vertx.setPeriodic(period, id -> sweep());
    }

    void onConnect(HttpConnection c) {
        connections.put(c, new State());
        c.closeHandler(v -> connections.remove(c));
    }

    /** First handler of every request. */
    void onRequest(RoutingContext ctx) {
        State s = connections.get(ctx.request().connection());
        if (s != null) {
            synchronized (s) {
                s.inFlight++;
                s.bodyDeadlineNanos = System.nanoTime() + readNanos;
            }
            ctx.addEndHandler(ar -> {
                synchronized (s) {
                    s.inFlight--;
                    s.bodyDeadlineNanos = 0;
                    s.lastActiveNanos = System.nanoTime();
                }
            });
        }
        ctx.next();
    }

    /** After the body handler: the request has fully arrived. */
    void onBodyRead(RoutingContext ctx) {
        State s = connections.get(ctx.request().connection());
        if (s != null) {
            synchronized (s) {
                s.bodyDeadlineNanos = 0;
            }
        }
        ctx.next();
    }

    int open() {
        return connections.size();
    }

    private void sweep() {
        long now = System.nanoTime();
        connections.forEach((c, s) -> {
            boolean close;
            synchronized (s) {
                close = (s.inFlight == 0 && now - s.lastActiveNanos > idleNanos)
                        || (s.bodyDeadlineNanos != 0 && now - s.bodyDeadlineNanos > 0);
            }
            if (close) c.close();
        });
    }

    void stop() {
        vertx.cancelTimer(timer);
    }
}
