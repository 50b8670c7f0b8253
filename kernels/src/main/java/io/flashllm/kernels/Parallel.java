package io.flashllm.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A persistent pool of platform threads for data-parallel loops. {@link #forRange} splits
 * {@code [0, n)} into chunks that the workers and the calling thread claim from a shared ticket,
 * and returns as soon as every chunk is done, whoever ran it: on a shared, oversubscribed machine
 * a worker that is not scheduled in time simply takes no chunks, and the caller never waits for a
 * thread that has nothing left to do.
 *
 * <p>Chunks shrink as the range runs out ({@link #claimSize}): each claim takes a share of what is
 * left, so the first chunks are long (a matrix-vector product's row streams stay long, which the
 * hardware prefetchers need) and the last ones short, so the threads finish close together.
 *
 * <p>The hand-off allocates nothing: the caller publishes the body in fields and bumps an epoch
 * that workers spin on briefly before parking. The ticket carries the epoch in its high half, so a
 * worker that wakes late cannot claim a chunk of a later job with the fields of an earlier one.
 * Calls are serialized; a nested call from inside a body (on a worker or on the caller) runs
 * inline on the calling thread instead of deadlocking.
 */
public final class Parallel implements AutoCloseable {

    /** One slice of a parallel loop: handles indices {@code from} (inclusive) to {@code to} (exclusive). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /** Spin iterations (roughly 0.1 ms) before a waiting thread parks: covers the gaps between back-to-back kernels without burning a shared core for long. */
    private static final int SPIN = Integer.getInteger("flashllm.parallel.spin", 2_000);
    /** A claim takes 1/(threads * SHARE) of the indices left: the first chunks are a quarter of the range on two threads. */
    private static final int SHARE = 2;
    /** The smallest chunk is 1/(threads * MIN_CHUNKS) of the range: the end of a loop waits at most that long for one thread. */
    private static final int MIN_CHUNKS = 16;

    private final int threads;
    private final Worker[] workers;
    private final ReentrantLock callLock = new ReentrantLock();

    // The current job: written by the caller before the ticket and epoch are published.
    private RangeBody body;
    private int n;
    private int grain;
    private int minChunk;
    private volatile Thread caller;
    /** (epoch << 32) | the first index not yet claimed. */
    private final AtomicLong ticket = new AtomicLong();
    private final AtomicInteger done = new AtomicInteger();
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
     * Runs {@code body} over {@code [0, n)} split into disjoint ranges, on the threads of the pool,
     * and returns when every range is done. The first exception thrown by any range is rethrown here
     * (an unchecked one as is); ranges not yet started are then skipped.
     */
    public void forRange(int n, RangeBody body) {
        forRange(n, 1, body);
    }

    /**
     * As {@link #forRange(int, RangeBody)}, with every range but the last a multiple of {@code grain}
     * indices when the loop has at least two grains per thread (a matrix-vector product's rows go
     * to kernels eight at a time; a remainder runs through slower narrower calls).
     */
    public void forRange(int n, int grain, RangeBody body) {
        if (grain < 1) throw new IllegalArgumentException("grain must be >= 1, got " + grain);
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        if (n == 0) {
            runPending();
            return;
        }
        if (closed) throw new IllegalStateException("Parallel pool is closed");
        if (workers.length == 0 || n == 1 || Thread.currentThread() instanceof Worker w && w.pool() == this
                || callLock.isHeldByCurrentThread()) {
            runPending();
            body.run(0, n);
            return;
        }
        callLock.lock();
        try {
            if (closed) throw new IllegalStateException("Parallel pool is closed");
            long e = epoch + 1;
            // Close the previous job's ticket before touching the job fields: a worker that read the
            // old ticket with every chunk claimed, then read the new (larger) n, would
            // otherwise claim indices that do not exist and run them with this job's body.
            ticket.set((e << 32) | Integer.MAX_VALUE);
            this.grain = grain(n, threads, grain);
            this.minChunk = minChunk(n, threads, grain);
            this.n = n;
            this.body = body;
            this.caller = Thread.currentThread();
            this.failure = null;
            done.set(0);
            ticket.set(e << 32);
            epoch = e; // volatile write: wakes spinning workers
            for (Worker w : workers) LockSupport.unpark(w);
            // The caller's own task first, while the workers start on the loop (see overlapNext).
            Throwable early = null;
            Runnable task = takePending();
            if (task != null) {
                try {
                    task.run();
                } catch (Throwable t) {
                    early = t;
                }
            }
            runChunks(e);
            int spins = 0;
            while (done.get() < n) {
                if (spins < SPIN) {
                    spins++;
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            this.body = null;
            Throwable t = early != null ? early : failure;
            if (t != null) {
                failure = null;
                if (t instanceof RuntimeException re) throw re;
                if (t instanceof Error err) throw err;
                throw new IllegalStateException("parallel body failed", t);
            }
        } finally {
            callLock.unlock();
        }
    }

    /** Set by {@link #overlapNext}; only its thread runs it. */
    private Runnable pending;
    private Thread pendingOwner;

    /**
     * Runs {@code task} on the calling thread inside this thread's next loop, after the workers have
     * started on that loop and before the caller joins it: work of the caller's own that does not
     * split (a syscall) overlaps the loop instead of preceding it. The caller must then call
     * {@link #runPending} after that loop, which runs the task if no loop took it (a loop that ran
     * on the calling thread alone runs it first). An exception from the task is thrown by the loop
     * once the loop is done.
     */
    public void overlapNext(Runnable task) {
        // One thread at a time: the FFN's, between its own loops.
        if (pending != null) throw new IllegalStateException("a task is already waiting for the next loop");
        pendingOwner = Thread.currentThread();
        pending = task;
    }

    /** Runs the task given to {@link #overlapNext} now if no loop has run it yet. */
    public void runPending() {
        Runnable task = takePending();
        if (task != null) task.run();
    }

    /** Drops the task given to {@link #overlapNext} unrun (the caller is giving up on what it was for); whether there was one. */
    public boolean dropPending() {
        return takePending() != null;
    }

    private Runnable takePending() {
        if (pending == null || pendingOwner != Thread.currentThread()) return null;
        Runnable task = pending;
        pending = null;
        pendingOwner = null;
        return task;
    }

    /** Claims and runs chunks of job {@code e} until none is left; a stale epoch claims nothing. */
    private void runChunks(long e) {
        while (true) {
            long t = ticket.get();
            if ((t >>> 32) != e) return;
            int from = (int) t;
            int total = n;
            if (from >= total) return;
            int size = claimSize(total - from, threads, grain, minChunk);
            if (!ticket.compareAndSet(t, t + size)) continue;
            // The claim succeeded, so job e is still running and its fields are stable until done.
            if (failure == null) {
                int to = from + size;
                try {
                    body.run(from, to);
                } catch (Throwable ex) {
                    if (failure == null) failure = ex;
                }
            }
            if (done.addAndGet(size) == total) {
                Thread waiter = caller;
                if (waiter != Thread.currentThread()) LockSupport.unpark(waiter);
            }
        }
    }

    /** The multiple that chunks of a loop over {@code n} indices are claimed in (the last one excepted). */
    static int grain(int n, int threads, int grain) {
        return n >= 2 * grain * threads ? grain : 1;
    }

    /** The smallest chunk of a loop over {@code n} indices: a multiple of {@code grain}, at least one grain. */
    static int minChunk(int n, int threads, int grain) {
        return Math.max(grain, n / (threads * MIN_CHUNKS) / grain * grain);
    }

    /**
     * How many indices the next claim takes when {@code left} are unclaimed: a share of them rounded
     * up to the grain, at least {@code minChunk}, and all of them when fewer than half a minimum
     * chunk would be left behind.
     */
    static int claimSize(int left, int threads, int grain, int minChunk) {
        int share = (left / (threads * SHARE) + grain - 1) / grain * grain;
        int size = Math.max(minChunk, share);
        return size >= left - minChunk / 2 ? left : size;
    }

    /** Stops the workers and waits for them; idempotent. A loop already running finishes first. */
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
                runChunks(e);
            }
        }
    }
}
