package io.flashllm.flashstore.io;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A set of reads handed to {@link IoEngine} at once, so many are in flight together. A batch is
 * reused token after token (arrays sized once); {@link #clear()} readies it for the next use.
 * Each completed read is passed to the {@link Handler} on the worker thread that read it, so
 * handlers must only touch state owned by that read.
 */
public final class ReadBatch {
    /** Receives the bytes of read {@code index}; {@code data} is valid only during the call. */
    @FunctionalInterface
    public interface Handler {
        void onRead(int index, java.lang.foreign.MemorySegment data, long nanos);
    }

    final BlockFile[] files;
    final long[] offsets;
    final int[] lengths;
    int size;
    Handler handler;

    final AtomicInteger next = new AtomicInteger();
    /** Native AIO only, touched by its one thread: reads in this round, and the next to submit. */
    int aioSize, aioNext;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition done = lock.newCondition();
    private int remaining;
    private Throwable failure;

    public ReadBatch(int capacity) {
        files = new BlockFile[capacity];
        offsets = new long[capacity];
        lengths = new int[capacity];
    }

    public int capacity() {
        return offsets.length;
    }

    public int size() {
        return size;
    }

    public void clear() {
        size = 0;
        failure = null;
    }

    public void handler(Handler handler) {
        this.handler = handler;
    }

    public void add(BlockFile file, long offset, int length) {
        files[size] = file;
        offsets[size] = offset;
        lengths[size] = length;
        size++;
    }

    void start() {
        next.set(0);
        lock.lock();
        try {
            remaining = size;
            failure = null;
        } finally {
            lock.unlock();
        }
    }

    void finished(Throwable t) {
        lock.lock();
        try {
            if (t != null && failure == null) failure = t;
            if (--remaining == 0) done.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** True when every read has completed (successfully or not). */
    public boolean isDone() {
        lock.lock();
        try {
            return remaining == 0;
        } finally {
            lock.unlock();
        }
    }

    /** Waits for every read; rethrows the first failure. */
    public void await() {
        lock.lock();
        try {
            while (remaining > 0) done.awaitUninterruptibly();
            if (failure instanceof RuntimeException re) throw re;
            if (failure instanceof Error er) throw er;
            if (failure != null) throw new IllegalStateException(failure);
        } finally {
            lock.unlock();
        }
    }
}
