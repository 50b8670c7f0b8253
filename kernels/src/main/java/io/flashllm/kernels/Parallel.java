package io.flashllm.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A persistent pool of platform threads for data-parallel loops. {@link #forRange} splits
 * {@code [0, n)} into chunks that the workers and the calling thread claim from a shared counter,
 * so a slow or descheduled thread (the machines are shared) does not hold the others back.
 *
 * <p>The hand-off allocates nothing: the caller publishes the body in fields and bumps an epoch
 * that workers spin on briefly before parking. Calls are serialized; a nested call from inside a
 * body (on a worker or on the caller) runs inline on the calling thread instead of deadlocking.
 */
public final class Parallel implements AutoCloseable {

    /** One slice of a parallel loop: handles indices {@code from} (inclusive) to {@code to} (exclusive). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /** Spin iterations before a waiting thread parks; spinning covers the gaps between back-to-back kernels. */
    private static final int SPIN = Integer.getInteger("flashllm.parallel.spin", 20_000);
    /** Chunks per thread: enough to balance load on a noisy machine, few enough to keep the counter cold. */
    private static final int CHUNKS_PER_THREAD = 4;

    private final int threads;
    private final Worker[] workers;
    private final ReentrantLock callLock = new ReentrantLock();

    // The current job; written by the caller before the epoch bump (volatile write publishes them).
    private RangeBody body;
    private int n;
    private int chunk;
    private int chunks;
    private Thread caller;
    private final AtomicInteger nextChunk = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Throwable failure;
    private volatile long epoch;
    private volatile boolean closed;

    private Parallel(int threads) {
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
    }

    /** A pool that runs loops on {@code threads} threads, the caller included ({@code threads - 1} workers). */
    public static Parallel create(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        return new Parallel(threads);
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into disjoint ranges, on all threads of the pool,
     * and returns when every range is done. The first exception thrown by any range is rethrown here
     * (an unchecked one as is) after all threads have stopped touching the job.
     */
    public void forRange(int n, RangeBody body) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        if (n == 0) return;
        if (closed) throw new IllegalStateException("Parallel pool is closed");
        if (workers.length == 0 || n == 1 || Thread.currentThread() instanceof Worker w && w.pool() == this
                || callLock.isHeldByCurrentThread()) {
            body.run(0, n);
            return;
        }
        callLock.lock();
        try {
            if (closed) throw new IllegalStateException("Parallel pool is closed");
            int target = Math.min(n, threads * CHUNKS_PER_THREAD);
            this.chunk = (n + target - 1) / target;
            this.chunks = (n + chunk - 1) / chunk;
            this.n = n;
            this.body = body;
            this.caller = Thread.currentThread();
            this.failure = null;
            nextChunk.set(0);
            pending.set(workers.length);
            epoch = epoch + 1; // volatile write: publishes the job
            for (Worker w : workers) LockSupport.unpark(w);
            runChunks();
            int spins = 0;
            while (pending.get() != 0) {
                if (spins < SPIN) {
                    spins++;
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            this.body = null;
            Throwable t = failure;
            if (t != null) {
                failure = null;
                if (t instanceof RuntimeException re) throw re;
                if (t instanceof Error e) throw e;
                throw new IllegalStateException("parallel body failed", t);
            }
        } finally {
            callLock.unlock();
        }
    }

    private void runChunks() {
        RangeBody b = body;
        int c;
        while (failure == null && (c = nextChunk.getAndIncrement()) < chunks) {
            int from = c * chunk;
            int to = Math.min(n, from + chunk);
            try {
                b.run(from, to);
            } catch (Throwable t) {
                if (failure == null) failure = t;
            }
        }
    }

    /** Stops the workers and waits for them; idempotent. Loops already running finish first. */
    @Override
    public void close() {
        callLock.lock();
        try {
            if (closed) return;
            closed = true;
        } finally {
            callLock.unlock();
        }
        for (Worker w : workers) LockSupport.unpark(w);
        boolean interrupted = false;
        for (Worker w : workers) {
            while (true) {
                try {
                    w.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    private final class Worker extends Thread {
        Worker(int index) {
            super("flashllm-parallel-" + index);
            setDaemon(true);
        }

        Parallel pool() {
            return Parallel.this;
        }

        @Override
        public void run() {
            long seen = 0; // the epoch at construction; reading the field here could miss a job posted before start
            while (true) {
                int spins = 0;
                long e;
                while ((e = epoch) == seen) {
                    if (closed) return;
                    if (spins < SPIN) {
                        spins++;
                        Thread.onSpinWait();
                    } else {
                        LockSupport.park(Parallel.this);
                    }
                }
                seen = e;
                Thread c = caller;
                runChunks();
                if (pending.decrementAndGet() == 0) LockSupport.unpark(c);
            }
        }
    }
}
