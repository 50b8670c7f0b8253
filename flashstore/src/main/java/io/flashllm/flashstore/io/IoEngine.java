package io.flashllm.flashstore.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Parallel positional reads: a fixed set of worker threads, each with its own aligned buffer, so
 * {@code threads} reads are in flight at once (the queue depth flash needs for throughput). Plain
 * blocking {@code pread}s from many threads reach the same device queue depth as libaio without
 * native code.
 */
public final class IoEngine implements AutoCloseable {
    private final int threads;
    private final int maxReadBytes;
    private final Arena arena = Arena.ofShared();
    private final List<Thread> workers = new ArrayList<>();
    /** One entry per worker asked to join a batch; a null batch stops the worker. */
    private final LinkedBlockingQueue<ReadBatch> tickets = new LinkedBlockingQueue<>();
    private static final ReadBatch STOP = new ReadBatch(0);
    private volatile boolean closed;

    /**
     * @param threads      reads in flight at once (queue depth)
     * @param maxReadBytes largest single read, a multiple of {@link BlockFile#ALIGNMENT}
     */
    public IoEngine(int threads, int maxReadBytes) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1");
        if (maxReadBytes <= 0 || maxReadBytes % BlockFile.ALIGNMENT != 0) {
            throw new IllegalArgumentException("maxReadBytes must be a positive multiple of " + BlockFile.ALIGNMENT);
        }
        this.threads = threads;
        this.maxReadBytes = maxReadBytes;
        for (int i = 0; i < threads; i++) {
            MemorySegment buf = arena.allocate(maxReadBytes, BlockFile.ALIGNMENT);
            Thread t = Thread.ofPlatform().daemon().name("flashllm-io-" + i).unstarted(() -> work(buf));
            workers.add(t);
            t.start();
        }
    }

    public int threads() {
        return threads;
    }

    public int maxReadBytes() {
        return maxReadBytes;
    }

    /** Starts the batch's reads and returns at once; {@link ReadBatch#await()} waits for them. */
    public void submit(ReadBatch batch) {
        if (closed) throw new IllegalStateException("I/O engine is closed");
        for (int i = 0; i < batch.size; i++) {
            if (batch.lengths[i] <= 0 || batch.lengths[i] > maxReadBytes) {
                throw new IllegalArgumentException("read " + i + " of " + batch.lengths[i] + " bytes; limit is " + maxReadBytes);
            }
        }
        batch.start();
        if (batch.size == 0) return;
        int helpers = Math.min(threads, batch.size);
        for (int i = 0; i < helpers; i++) tickets.add(batch);
    }

    /** Runs the batch and waits for it. */
    public void execute(ReadBatch batch) {
        submit(batch);
        batch.await();
    }

    private void work(MemorySegment buf) {
        ByteBuffer bb = buf.asByteBuffer();
        // The handler's view of each read, made once per block-multiple length and reused, so a
        // read allocates nothing; other lengths (buffered files only) are sliced per read.
        MemorySegment[] views = new MemorySegment[maxReadBytes / BlockFile.ALIGNMENT + 1];
        while (true) {
            ReadBatch b;
            try {
                b = tickets.take();
            } catch (InterruptedException e) {
                return;
            }
            if (b == STOP) return;
            int i;
            while ((i = b.next.getAndIncrement()) < b.size) {
                Throwable failure = null;
                try {
                    int len = b.lengths[i];
                    bb.clear().limit(len);
                    long t0 = System.nanoTime();
                    b.files[i].readFully(bb, b.offsets[i]);
                    long nanos = System.nanoTime() - t0;
                    MemorySegment data;
                    if (len % BlockFile.ALIGNMENT == 0) {
                        int k = len / BlockFile.ALIGNMENT;
                        data = views[k];
                        if (data == null) data = views[k] = buf.asSlice(0, len);
                    } else {
                        data = buf.asSlice(0, len);
                    }
                    b.handler.onRead(i, data, nanos);
                } catch (Throwable t) {
                    failure = t;
                }
                b.finished(failure);
            }
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (int i = 0; i < threads; i++) tickets.add(STOP);
        for (Thread t : workers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        arena.close();
    }
}
