package io.flashllm.flashstore.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Parallel positional reads, {@code depth} in flight at once (the queue depth flash needs for
 * throughput), each into its own aligned buffer. Two ways to get there:
 * <ul>
 * <li>Linux native AIO ({@link LinuxAio}): one thread submits a batch's reads with one system call
 *     and reaps completions as they come, keeping {@code depth} in flight;</li>
 * <li>elsewhere, or when asked: {@code depth} worker threads doing blocking {@code pread}s.</li>
 * </ul>
 * Both hand each completed read to the batch's handler on the engine's thread that finished it.
 */
public final class IoEngine implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(IoEngine.class.getName());
    private final int threads;
    private final int maxReadBytes;
    private final boolean nativeAio;
    private final Arena arena = Arena.ofShared();
    private final List<Thread> workers = new ArrayList<>();
    /** One entry per worker asked to join a batch; a null batch stops the worker. */
    private final LinkedBlockingQueue<ReadBatch> tickets = new LinkedBlockingQueue<>();
    private static final ReadBatch STOP = new ReadBatch(0);
    private volatile boolean closed;

    /** Reads through {@code threads} blocking worker threads. */
    public IoEngine(int threads, int maxReadBytes) {
        this(threads, maxReadBytes, false);
    }

    /**
     * @param depth        reads in flight at once (queue depth)
     * @param maxReadBytes largest single read, a multiple of {@link BlockFile#ALIGNMENT}
     * @param preferNativeAio use Linux native AIO where the platform allows (else worker threads)
     */
    public IoEngine(int depth, int maxReadBytes, boolean preferNativeAio) {
        if (depth < 1) throw new IllegalArgumentException("queue depth must be >= 1");
        if (maxReadBytes <= 0 || maxReadBytes % BlockFile.ALIGNMENT != 0) {
            throw new IllegalArgumentException("maxReadBytes must be a positive multiple of " + BlockFile.ALIGNMENT);
        }
        this.threads = depth;
        this.maxReadBytes = maxReadBytes;
        long ctx = 0;
        String refused = preferNativeAio ? LinuxAio.unavailable() : null;
        if (preferNativeAio && refused == null) {
            try {
                ctx = LinuxAio.setup(depth);
            } catch (IllegalStateException e) {
                refused = e.getMessage();
            }
        }
        if (refused != null) {
            LOG.log(System.Logger.Level.INFO, "native AIO unavailable (" + refused + "); reading with " + depth + " threads");
        }
        this.nativeAio = preferNativeAio && refused == null;
        if (nativeAio) {
            MemorySegment bufs = arena.allocate((long) depth * maxReadBytes, BlockFile.ALIGNMENT);
            long context = ctx;
            Thread t = Thread.ofPlatform().daemon().name("flashllm-aio").unstarted(() -> aioWork(bufs, context));
            workers.add(t);
            t.start();
            return;
        }
        for (int i = 0; i < depth; i++) {
            MemorySegment buf = arena.allocate(maxReadBytes, BlockFile.ALIGNMENT);
            MemorySegment state = Posix.unavailable() == null ? Posix.newCallState(arena) : null;
            Thread t = Thread.ofPlatform().daemon().name("flashllm-io-" + i).unstarted(() -> work(buf, state));
            workers.add(t);
            t.start();
        }
    }

    /** True when this platform lets reads go through Linux native AIO (else worker threads). */
    public static boolean nativeAioAvailable() {
        return LinuxAio.unavailable() == null;
    }

    /** Reads in flight at once (the queue depth), whichever way they are issued. */
    public int threads() {
        return threads;
    }

    /** True when reads go through Linux native AIO rather than worker threads. */
    public boolean nativeAio() {
        return nativeAio;
    }

    /** How reads are issued, for the start-up log. */
    public String describe() {
        return (nativeAio ? "Linux native AIO, " + threads + " reads in flight" : threads + " read threads")
                + ", reads up to " + maxReadBytes / 1024 + " KiB";
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
        int helpers = nativeAio ? 1 : Math.min(threads, batch.size);
        for (int i = 0; i < helpers; i++) tickets.add(batch);
    }

    /** Runs the batch and waits for it. */
    public void execute(ReadBatch batch) {
        submit(batch);
        batch.await();
    }

    private void work(MemorySegment buf, MemorySegment state) {
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
            while ((i = b.claim()) >= 0) {
                Throwable failure = null;
                try {
                    int len = b.lengths[i];
                    MemorySegment data = view(views, buf, 0, len);
                    long t0 = System.nanoTime();
                    b.files[i].readFully(data, b.offsets[i], state); // pread(2), O_DIRECT when the file is direct
                    long nanos = System.nanoTime() - t0;
                    b.handler.onRead(i, data, nanos);
                } catch (Throwable t) {
                    failure = t;
                }
                b.finished(failure);
            }
        }
    }

    /**
     * The native AIO loop: keep up to {@code threads} reads submitted, taken from the batches in the
     * order they came, reap what completed, hand it to its batch's handler and refill the freed
     * slots. A batch that came while another still has reads in flight joins at once, so a layer's
     * reads and a prefetch, or two alternating batches, share the queue without draining it. Slot s
     * reads into {@code bufs[s * maxReadBytes ..]}; its iocb carries s as its user data.
     */
    private void aioWork(MemorySegment bufs, long ctx) {
        int depth = threads;
        try (Arena local = Arena.ofConfined()) {
            MemorySegment state = LinuxAio.newCallState(local);
            MemorySegment iocbs = local.allocate((long) depth * LinuxAio.IOCB_BYTES, 64);
            MemorySegment pointers = local.allocate((long) depth * Long.BYTES, Long.BYTES);
            MemorySegment events = local.allocate((long) depth * LinuxAio.EVENT_BYTES, Long.BYTES);
            int[] free = new int[depth];
            for (int i = 0; i < depth; i++) free[i] = depth - 1 - i;
            int freeCount = depth;
            ReadBatch[] slotBatch = new ReadBatch[depth];
            int[] slotRead = new int[depth];
            long[] slotStart = new long[depth];
            // Per slot, views of its buffer for each block-multiple length, made once (no allocation per read).
            MemorySegment[][] views = new MemorySegment[depth][maxReadBytes / BlockFile.ALIGNMENT + 1];
            // Batches with reads not yet submitted, oldest first; each batch's cursor is its aioNext.
            java.util.ArrayDeque<ReadBatch> waiting = new java.util.ArrayDeque<>();
            int inFlight = 0, unsubmitted = 0;
            boolean stop = false, destroyed = false;
            try {
                while (!stop || inFlight > 0 || unsubmitted > 0 || !waiting.isEmpty()) {
                    // Take new batches: block only when there is nothing else to do.
                    boolean idle = inFlight == 0 && unsubmitted == 0 && waiting.isEmpty();
                    ReadBatch t = idle && !stop ? takeTicket() : tickets.poll();
                    while (t != null) {
                        if (t == STOP) {
                            stop = true;
                        } else {
                            // Read once: the moment its last read finishes, the owner may refill the batch.
                            t.aioSize = t.size;
                            t.aioNext = 0;
                            if (t.aioSize > 0) waiting.add(t);
                        }
                        t = tickets.poll();
                    }
                    int n = unsubmitted; // reads io_submit did not take last time go first, in order
                    while (freeCount > 0 && !waiting.isEmpty()) {
                        ReadBatch b = waiting.peek();
                        int i = b.aioNext++;
                        if (b.aioNext == b.aioSize) waiting.poll();
                        int fd;
                        try {
                            b.files[i].checkRange(b.offsets[i], b.lengths[i]);
                            // Held until the completion is reaped: closing the file meanwhile cannot close it.
                            fd = b.files[i].acquireFd(b.offsets[i], b.lengths[i]);
                        } catch (RuntimeException e) {
                            b.finished(e);
                            continue;
                        }
                        int slot = free[--freeCount];
                        long at = (long) slot * LinuxAio.IOCB_BYTES;
                        LinuxAio.prepareRead(iocbs, at, slot, fd, bufs.address() + (long) slot * maxReadBytes,
                                b.lengths[i], b.offsets[i]);
                        pointers.setAtIndex(ValueLayout.JAVA_LONG, n++, iocbs.address() + at);
                        slotBatch[slot] = b;
                        slotRead[slot] = i;
                        slotStart[slot] = System.nanoTime();
                    }
                    if (n > 0) {
                        long submitted = LinuxAio.submit(ctx, n, pointers, state);
                        if (submitted < 0) {
                            int errno = LinuxAio.errno(state);
                            if (errno != LinuxAio.EAGAIN && errno != LinuxAio.EINTR) {
                                unsubmitted = n;
                                throw new IllegalStateException("io_submit failed: errno " + errno);
                            }
                            submitted = 0;
                        }
                        unsubmitted = (int) (n - submitted);
                        if (unsubmitted > 0) {
                            MemorySegment.copy(pointers, submitted * Long.BYTES, pointers, 0, (long) unsubmitted * Long.BYTES);
                        }
                        inFlight += (int) submitted;
                        if (submitted == 0 && inFlight == 0) Thread.onSpinWait();
                    }
                    if (inFlight == 0) continue;
                    long got = LinuxAio.getEvents(ctx, 1, depth, events, state);
                    if (got < 0) {
                        int errno = LinuxAio.errno(state);
                        if (errno == LinuxAio.EINTR) continue;
                        throw new IllegalStateException("io_getevents failed: errno " + errno);
                    }
                    long now = System.nanoTime();
                    for (int e = 0; e < got; e++) {
                        long base = (long) e * LinuxAio.EVENT_BYTES;
                        int slot = (int) events.get(ValueLayout.JAVA_LONG, base);
                        long res = events.get(ValueLayout.JAVA_LONG, base + 16);
                        ReadBatch b = slotBatch[slot];
                        int i = slotRead[slot];
                        int len = b.lengths[i];
                        Throwable failure = null;
                        b.files[i].releaseFd();
                        try {
                            if (res != len) throw b.files[i].readFailed(b.offsets[i], len, res);
                            b.handler.onRead(i, view(views[slot], bufs, (long) slot * maxReadBytes, len),
                                    now - slotStart[slot]);
                        } catch (Throwable x) {
                            failure = x;
                        }
                        slotBatch[slot] = null;
                        free[freeCount++] = slot;
                        inFlight--;
                        b.finished(failure);
                    }
                }
            } catch (RuntimeException | Error e) {
                // The context is unusable: fail what is in flight, prepared or waiting, and every later read.
                LOG.log(System.Logger.Level.ERROR, "native AIO stopped: " + e.getMessage());
                LinuxAio.destroy(ctx, state); // cancels or waits for reads in flight before their buffers go
                destroyed = true;
                IllegalStateException failed = new IllegalStateException("native AIO failed", e);
                for (int slot = 0; slot < depth; slot++) {
                    ReadBatch b = slotBatch[slot];
                    if (b == null) continue;
                    b.files[slotRead[slot]].releaseFd();
                    b.finished(failed);
                }
                for (ReadBatch b : waiting) {
                    for (int i = b.aioNext; i < b.aioSize; i++) b.finished(failed);
                }
                if (!stop) failAll(e);
            } finally {
                if (!destroyed) LinuxAio.destroy(ctx, state);
            }
        }
    }

    /**
     * The handler's view of {@code len} bytes at {@code base} of a read buffer: made once per
     * block-multiple length and kept in {@code views}, so a read allocates nothing; other lengths
     * (buffered files only) are sliced per read.
     */
    private static MemorySegment view(MemorySegment[] views, MemorySegment buf, long base, int len) {
        if (len % BlockFile.ALIGNMENT != 0) return buf.asSlice(base, len);
        int k = len / BlockFile.ALIGNMENT;
        MemorySegment v = views[k];
        if (v == null) v = views[k] = buf.asSlice(base, len);
        return v;
    }

    private ReadBatch takeTicket() {
        try {
            return tickets.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return STOP;
        }
    }

    /** After the AIO loop died: fail every read of every batch that reaches it. */
    private void failAll(Throwable cause) {
        while (!closed) {
            ReadBatch b;
            try {
                b = tickets.take();
            } catch (InterruptedException e) {
                return;
            }
            if (b == STOP) return;
            int i;
            while ((i = b.claim()) >= 0) b.finished(new IllegalStateException("native AIO failed", cause));
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (int i = 0; i < workers.size(); i++) tickets.add(STOP);
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
