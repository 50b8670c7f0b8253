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
 * <li>Linux native AIO ({@link LinuxAio}): the caller submits a batch's reads with one system call
 *     (as many as there are free slots), and one thread reaps completions as they come and submits
 *     the rest as slots free up, keeping {@code depth} in flight;</li>
 * <li>elsewhere, or when asked: {@code depth} worker threads doing blocking {@code pread}s.</li>
 * </ul>
 * Both hand each completed read to the batch's handler on the engine's thread that finished it. Reads go
 * into the engine's aligned buffers, or straight into the caller's memory where the batch names it (then an
 * engine made without buffers allocates none).
 */
public final class IoEngine implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(IoEngine.class.getName());
    private final int threads;
    private final int maxReadBytes;
    /** Whether reads may go into the engine's own buffers (else only into the caller's memory). */
    private final boolean buffers;
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
        this(depth, maxReadBytes, preferNativeAio, true);
    }

    /**
     * @param buffers false: every read goes into the caller's memory ({@link ReadBatch#add(BlockFile, long, int,
     *                java.lang.foreign.MemorySegment)}), and the engine allocates no buffers of its own
     */
    public IoEngine(int depth, int maxReadBytes, boolean preferNativeAio, boolean buffers) {
        if (depth < 1) throw new IllegalArgumentException("queue depth must be >= 1");
        if (maxReadBytes <= 0 || maxReadBytes % BlockFile.ALIGNMENT != 0) {
            throw new IllegalArgumentException("maxReadBytes must be a positive multiple of " + BlockFile.ALIGNMENT);
        }
        this.threads = depth;
        this.maxReadBytes = maxReadBytes;
        this.buffers = buffers;
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
        this.aio = nativeAio ? new Aio(ctx, buffers ? arena.allocate((long) depth * maxReadBytes, BlockFile.ALIGNMENT)
                : MemorySegment.NULL) : null;
        if (nativeAio) {
            Thread t = Thread.ofPlatform().daemon().name("flashllm-aio").unstarted(() -> aioWork(aio));
            workers.add(t);
            t.start();
            return;
        }
        for (int i = 0; i < depth; i++) {
            MemorySegment buf = buffers ? arena.allocate(maxReadBytes, BlockFile.ALIGNMENT) : MemorySegment.NULL;
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
            MemorySegment into = batch.into[i];
            if (into == null) {
                if (!buffers) throw new IllegalArgumentException("read " + i + " names no memory, and this engine has no buffers");
            } else if (!into.isNative() || into.isReadOnly() || into.byteSize() != batch.lengths[i]
                    || (batch.files[i].direct() && (into.address() & (BlockFile.ALIGNMENT - 1)) != 0)) {
                throw new IllegalArgumentException("read " + i + " into " + into + ": needs writable native memory of "
                        + batch.lengths[i] + " bytes" + (batch.files[i].direct() ? ", aligned to " + BlockFile.ALIGNMENT : ""));
            }
        }
        batch.start();
        if (batch.size == 0) return;
        if (nativeAio) {
            Throwable dead = submitAio(batch);
            if (dead != null) {
                int i;
                while ((i = batch.claim()) >= 0) batch.finished(new IllegalStateException("native AIO failed", dead));
                return;
            }
        }
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
                    MemorySegment data = b.into[i] != null ? b.into[i] : view(views, buf, 0, len);
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
     * Native AIO state shared by the submitting threads and the AIO thread, guarded by {@link #lock}:
     * a caller submits its batch's reads itself ({@link #submitAio}), so they reach the disk at once
     * instead of when the AIO thread next gets a core (on two busy cores a woken thread waited ~0.5 ms,
     * docs/benchmarks.md §4, session 27); the AIO thread reaps completions, hands them to their
     * batches' handlers, and submits what waited for a free slot. Slot s reads into
     * {@code bufs[s * maxReadBytes ..]}; its iocb carries s as its user data.
     */
    private final class Aio {
        final long ctx;
        final MemorySegment bufs;
        final int depth = threads;
        final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
        final MemorySegment submitState = LinuxAio.newCallState(arena);
        final MemorySegment iocbs = arena.allocate((long) depth * LinuxAio.IOCB_BYTES, 64);
        final MemorySegment pointers = arena.allocate((long) depth * Long.BYTES, Long.BYTES);
        final int[] free = new int[depth];
        int freeCount = depth;
        final ReadBatch[] slotBatch = new ReadBatch[depth];
        final int[] slotRead = new int[depth];
        final long[] slotStart = new long[depth];
        /** Batches with reads not yet submitted, oldest first; each batch's cursor is its aioNext. */
        final java.util.ArrayDeque<ReadBatch> waiting = new java.util.ArrayDeque<>();
        int inFlight, unsubmitted;
        /** Reads io_submit has taken since the start (for tests). */
        long submittedTotal;
        /** Set when io_submit failed for good: the AIO thread fails everything and stops. */
        RuntimeException fatal;
        /** Why the context died, once the AIO thread failed what it held; later batches fail with it. */
        Throwable dead;

        Aio(long ctx, MemorySegment bufs) {
            this.ctx = ctx;
            this.bufs = bufs;
            for (int i = 0; i < depth; i++) free[i] = depth - 1 - i;
        }

        /**
         * Under the lock: prepares waiting reads into free slots and submits them with those io_submit
         * did not take last time (first, in order). A fatal errno is recorded in {@link #fatal} and thrown.
         */
        void submitWaiting() {
            if (fatal != null) throw fatal;
            int n = unsubmitted;
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
                long buffer = b.into[i] != null ? b.into[i].address() : bufs.address() + (long) slot * maxReadBytes;
                LinuxAio.prepareRead(iocbs, at, slot, fd, buffer, b.lengths[i], b.offsets[i]);
                pointers.setAtIndex(ValueLayout.JAVA_LONG, n++, iocbs.address() + at);
                slotBatch[slot] = b;
                slotRead[slot] = i;
                slotStart[slot] = System.nanoTime();
            }
            if (n == 0) return;
            // In calls of at most SUBMIT_AT_ONCE reads, so the first reach the disk early (see there).
            long submitted = 0;
            while (submitted < n) {
                long part = Math.min(SUBMIT_AT_ONCE, n - submitted), took;
                try {
                    took = LinuxAio.submit(ctx, part, pointers, submitted, submitState);
                } catch (RuntimeException e) {
                    // The call itself failed: what it was given is not known to be in flight, so no read may wait on it.
                    throw failed(n, submitted, new IllegalStateException("io_submit failed", e));
                }
                if (took < 0) {
                    int errno = LinuxAio.errno(submitState);
                    if (errno != LinuxAio.EAGAIN && errno != LinuxAio.EINTR) {
                        throw failed(n, submitted, new IllegalStateException("io_submit failed: errno " + errno));
                    }
                    break;
                }
                submitted += took;
                if (took < part) break; // the context is full: the rest go in as slots free up
            }
            taken(n, submitted);
        }

        /** Of the {@code n} prepared reads, io_submit took the first {@code submitted}; the rest move to the front. */
        private void taken(int n, long submitted) {
            unsubmitted = (int) (n - submitted);
            if (unsubmitted > 0 && submitted > 0) {
                MemorySegment.copy(pointers, submitted * Long.BYTES, pointers, 0, (long) unsubmitted * Long.BYTES);
            }
            inFlight += (int) submitted;
            submittedTotal += submitted;
        }

        /** Records {@code e} as fatal after io_submit took the first {@code submitted} of {@code n} reads; returns it to throw. */
        private IllegalStateException failed(int n, long submitted, IllegalStateException e) {
            taken(n, submitted);
            fatal = e;
            return e;
        }

        boolean idle() {
            return inFlight == 0 && unsubmitted == 0 && waiting.isEmpty();
        }
    }

    /** With native AIO, the reads io_submit has taken so far; -1 with worker threads. */
    long aioSubmitted() {
        if (aio == null) return -1;
        aio.lock.lock();
        try {
            return aio.submittedTotal;
        } finally {
            aio.lock.unlock();
        }
    }

    /**
     * Most reads one io_submit call takes. The kernel holds a call's requests back (its plug) until
     * the call returns or tens of them are queued, and a direct read costs 3-5 us of the call here:
     * a range's 50-90 reads in one call took ~0.2 ms (docs/benchmarks.md §4, session 28).
     * {@code -Dflashllm.aio.submitAtOnce=N} for comparison runs.
     */
    static final int SUBMIT_AT_ONCE = Math.max(1, Integer.getInteger("flashllm.aio.submitAtOnce", 16));

    /** Native AIO's shared state, or null with worker threads. */
    private final Aio aio;

    /** The caller's side of native AIO: queue the batch and submit what fits now; null, or why the engine died. */
    private Throwable submitAio(ReadBatch batch) {
        Aio a = aio;
        a.lock.lock();
        try {
            if (a.dead != null) return a.dead;
            batch.aioSize = batch.size;
            batch.aioNext = 0;
            a.waiting.add(batch);
            try {
                a.submitWaiting();
            } catch (RuntimeException e) {
                // Recorded in fatal: the AIO thread, woken below, fails this batch with the rest.
            }
            return null;
        } finally {
            a.lock.unlock();
        }
    }

    /**
     * The AIO thread: reap completions, hand each to its batch's handler, free its slot and submit
     * what waited for one; block for a wake-up only with nothing submitted or waiting.
     */
    private void aioWork(Aio a) {
        int depth = a.depth;
        try (Arena local = Arena.ofConfined()) {
            MemorySegment state = LinuxAio.newCallState(local);
            MemorySegment events = local.allocate((long) depth * LinuxAio.EVENT_BYTES, Long.BYTES);
            // Per slot, views of its buffer for each block-multiple length, made once (no allocation per read).
            MemorySegment[][] views = new MemorySegment[depth][maxReadBytes / BlockFile.ALIGNMENT + 1];
            ReadBatch[] gotBatch = new ReadBatch[depth];
            int[] gotRead = new int[depth];
            long[] gotStart = new long[depth];
            Throwable[] gotFailure = new Throwable[depth];
            boolean stop = false, destroyed = false;
            try {
                while (true) {
                    boolean idle;
                    a.lock.lock();
                    try {
                        if (a.fatal != null) throw a.fatal;
                        idle = a.idle();
                    } finally {
                        a.lock.unlock();
                    }
                    if (stop && idle) break;
                    // Tickets only wake this thread: the callers queued and submitted their reads already.
                    ReadBatch t = idle && !stop ? takeTicket() : tickets.poll();
                    while (t != null) {
                        if (t == STOP) stop = true;
                        t = tickets.poll();
                    }
                    int inFlight;
                    boolean refused;
                    a.lock.lock();
                    try {
                        a.submitWaiting();
                        inFlight = a.inFlight;
                        refused = a.unsubmitted > 0;
                    } finally {
                        a.lock.unlock();
                    }
                    if (inFlight == 0) {
                        if (refused) Thread.onSpinWait(); // EAGAIN with nothing in flight: try again
                        continue;
                    }
                    long got = LinuxAio.getEvents(a.ctx, 1, depth, events, state);
                    if (got < 0) {
                        int errno = LinuxAio.errno(state);
                        if (errno == LinuxAio.EINTR) continue;
                        throw new IllegalStateException("io_getevents failed: errno " + errno);
                    }
                    long now = System.nanoTime();
                    a.lock.lock();
                    try {
                        for (int e = 0; e < got; e++) {
                            int slot = (int) events.get(ValueLayout.JAVA_LONG, (long) e * LinuxAio.EVENT_BYTES);
                            gotBatch[e] = a.slotBatch[slot];
                            gotRead[e] = a.slotRead[slot];
                            gotStart[e] = a.slotStart[slot];
                        }
                    } finally {
                        a.lock.unlock();
                    }
                    // Handlers outside the lock (callers may submit meanwhile), then the slots freed in one
                    // go, then the batches told, so an owner that refills its batch at once finds the slots
                    // free; reads that waited for a slot go in at the top of the loop.
                    for (int e = 0; e < got; e++) {
                        long base = (long) e * LinuxAio.EVENT_BYTES;
                        int slot = (int) events.get(ValueLayout.JAVA_LONG, base);
                        long res = events.get(ValueLayout.JAVA_LONG, base + 16);
                        ReadBatch b = gotBatch[e];
                        int i = gotRead[e];
                        int len = b.lengths[i];
                        b.files[i].releaseFd();
                        gotFailure[e] = null;
                        try {
                            if (res != len) throw b.files[i].readFailed(b.offsets[i], len, res);
                            MemorySegment data = b.into[i] != null ? b.into[i] : view(views[slot], a.bufs, (long) slot * maxReadBytes, len);
                            b.handler.onRead(i, data, now - gotStart[e]);
                        } catch (Throwable x) {
                            gotFailure[e] = x;
                        }
                    }
                    a.lock.lock();
                    try {
                        for (int e = 0; e < got; e++) {
                            int slot = (int) events.get(ValueLayout.JAVA_LONG, (long) e * LinuxAio.EVENT_BYTES);
                            a.slotBatch[slot] = null;
                            a.free[a.freeCount++] = slot;
                        }
                        a.inFlight -= (int) got;
                    } finally {
                        a.lock.unlock();
                        for (int e = 0; e < got; e++) {
                            gotBatch[e].finished(gotFailure[e]);
                            gotBatch[e] = null;
                            gotFailure[e] = null;
                        }
                    }
                }
            } catch (RuntimeException | Error e) {
                // The context is unusable: fail what is in flight, prepared or waiting, and every later read.
                LOG.log(System.Logger.Level.ERROR, "native AIO stopped: " + e.getMessage());
                a.lock.lock();
                try {
                    a.dead = e;
                    LinuxAio.destroy(a.ctx, state); // cancels or waits for reads in flight before their buffers go
                    destroyed = true;
                    IllegalStateException failed = new IllegalStateException("native AIO failed", e);
                    for (int slot = 0; slot < depth; slot++) {
                        ReadBatch b = a.slotBatch[slot];
                        if (b == null) continue;
                        a.slotBatch[slot] = null;
                        b.files[a.slotRead[slot]].releaseFd();
                        b.finished(failed);
                    }
                    for (ReadBatch b : a.waiting) {
                        for (int i = b.aioNext; i < b.aioSize; i++) b.finished(failed);
                    }
                    a.waiting.clear();
                } finally {
                    a.lock.unlock();
                }
                // Later batches fail in submit (dead); tickets left in the queue are only wake-ups.
            } finally {
                if (!destroyed) LinuxAio.destroy(a.ctx, state);
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
