package io.flashllm.server.http;

import io.vertx.core.Context;
import io.vertx.core.http.HttpServerResponse;

/**
 * Hands text from a slot thread to the event loop that owns the response, with back-pressure: when
 * the client reads slower than tokens arrive, {@link #send} blocks the slot thread (pausing
 * generation) until the response drains, and gives up after the slow-reader timeout.
 */
final class ResponseSink {
    /** Chunks handed to the event loop but not yet written; bounds memory if the loop lags. */
    private static final int MAX_PENDING = 64;

    private final Context context;
    private final HttpServerResponse response;
    private final long slowReaderTimeoutNanos;
    private final Object monitor = new Object();
    private boolean writable = true;
    private int pending;
    private volatile boolean closed;
    private volatile long lastWriteNanos = System.nanoTime();

    ResponseSink(Context context, HttpServerResponse response, long slowReaderTimeoutMs) {
        this.context = context;
        this.response = response;
        this.slowReaderTimeoutNanos = slowReaderTimeoutMs * 1_000_000L;
    }

    long nanosSinceLastWrite() {
        return System.nanoTime() - lastWriteNanos;
    }

    boolean closed() {
        return closed;
    }

    /** Event loop only: writes now, and notes when the client stopped keeping up. */
    void writeNow(String data) {
        if (closed || response.closed() || response.ended()) return;
        response.write(data);
        lastWriteNanos = System.nanoTime();
        if (response.writeQueueFull()) {
            setWritable(false);
            response.drainHandler(v -> setWritable(true));
        }
    }

    private void setWritable(boolean w) {
        synchronized (monitor) {
            writable = w;
            monitor.notifyAll();
        }
    }

    /**
     * Slot thread: queues data for the event loop, first waiting while the client is not reading.
     * Returns false when the client read nothing for the slow-reader timeout (or is gone).
     */
    boolean send(String data) {
        synchronized (monitor) {
            long deadline = System.nanoTime() + slowReaderTimeoutNanos;
            while ((!writable || pending >= MAX_PENDING) && !closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                try {
                    monitor.wait(Math.max(1, left / 1_000_000L));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            if (closed) return false;
            pending++;
        }
        context.runOnContext(v -> {
            try {
                writeNow(data);
            } finally {
                synchronized (monitor) {
                    pending--;
                    monitor.notifyAll();
                }
            }
        });
        return true;
    }

    /** The connection is gone: wake and release any waiting slot thread. */
    void markClosed() {
        closed = true;
        synchronized (monitor) {
            monitor.notifyAll();
        }
    }
}
