package io.flashllm.flashstore.io;

import java.util.concurrent.atomic.AtomicLong;
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

    /**
     * Worker threads claim reads here: the round in the high 32 bits, the next read in the low.
     * The round makes a claim from a worker still holding an earlier round's ticket fail once the
     * owner has started the next round; {@link #roundSize} keeps it from claiming while the owner
     * refills the batch between rounds (when {@link #size} is already the new round's).
     */
    private final AtomicLong cursor = new AtomicLong();
    private volatile int roundSize;
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
        lock.lock();
        try {
            remaining = size;
            failure = null;
        } finally {
            lock.unlock();
        }
        roundSize = size;
        cursor.set(((cursor.get() >>> 32) + 1) << 32); // publishes the round: claims begin after this
    }

    /** The index of an unclaimed read of the current round, or -1 when all are claimed. */
    int claim() {
        while (true) {
            long c = cursor.get();
            int i = (int) c;
            if (i >= roundSize) return -1;
            if (cursor.compareAndSet(c, c + 1)) return i;
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
