package io.flashllm.flashstore.io;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A set of reads handed to {@link IoEngine} at once, so many are in flight together. A batch is
 * reused token after token (arrays sized once); {@link #clear()} readies it for the next use.
 * Each completed read is passed to the {@link Handler} on the worker thread that read it, so
 * handlers must only touch state owned by that read. A read goes into the engine's own buffer, or
 * straight into memory of the caller's ({@link #add(BlockFile, long, int, MemorySegment)}).
 */
public final class ReadBatch {
    /** Receives the bytes of read {@code index}; {@code data} is valid only during the call. */
    @FunctionalInterface
    public interface Handler {
        void onRead(int index, MemorySegment data, long nanos);
    }

    final BlockFile[] files;
    final long[] offsets;
    final int[] lengths;
    /** Per read, the caller's memory it goes into, or null for the engine's buffer. */
    final MemorySegment[] into;
    int size;
    Handler handler;

    /**
     * Worker threads claim reads here: the round in the high 32 bits, the next read in the low. A
     * claim from a worker still holding an earlier round's ticket fails once the next round has
     * started, because the round differs.
     */
    private final AtomicLong cursor = new AtomicLong();
    /**
     * The round and its number of reads, written before {@link #cursor} publishes the round. A claim
     * goes ahead only when both name the same round: between rounds the owner refills the arrays
     * and {@link #size} is already the next round's, and a claim must neither take a read of the
     * next round under the old round's cursor nor stop at the wrong size.
     */
    private volatile long roundAndSize;
    /** Native AIO only, touched under its engine's lock: reads in this round, and the next to submit. */
    int aioSize, aioNext;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition done = lock.newCondition();
    private int remaining;
    private Throwable failure;

    public ReadBatch(int capacity) {
        files = new BlockFile[capacity];
        offsets = new long[capacity];
        lengths = new int[capacity];
        into = new MemorySegment[capacity];
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

    /** The file offset of read {@code i}. */
    public long offset(int i) {
        return offsets[i];
    }

    public void add(BlockFile file, long offset, int length) {
        add(file, offset, length, null);
    }

    /**
     * A read straight into {@code into} (native memory of exactly {@code length} bytes that the engine's threads may
     * write, from a shared or global arena; for a direct file aligned to {@link BlockFile#ALIGNMENT}), which the
     * handler then sees as the read's data: no copy out of the engine's buffer. The memory must stay valid until the
     * read completes.
     */
    public void add(BlockFile file, long offset, int length, MemorySegment into) {
        files[size] = file;
        offsets[size] = offset;
        lengths[size] = length;
        this.into[size] = into;
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
        long round = (cursor.get() >>> 32) + 1;
        roundAndSize = round << 32 | size;
        cursor.set(round << 32); // publishes the round: claims begin after this
    }

    /** The index of an unclaimed read of the current round, or -1 when all are claimed. */
    int claim() {
        while (true) {
            long c = cursor.get();
            long rs = roundAndSize;
            if (rs >>> 32 != c >>> 32) { // the owner is between writing the two: the cursor follows at once
                Thread.onSpinWait();
                continue;
            }
            int i = (int) c;
            if (i >= (int) rs) return -1;
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
