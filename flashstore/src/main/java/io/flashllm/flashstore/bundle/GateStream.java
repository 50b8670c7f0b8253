package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.io.BlockFile;
import io.flashllm.kernels.WeightTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The gate matrices of a gated ReLU model read from flash layer by layer, for budgets that cannot
 * keep them all in DRAM. gate-exact needs every gate row of a layer each token, so instead of
 * letting the kernel page the mapped matrices in 4 KiB faults (~0.7 GB/s measured), each layer's
 * gate is read whole, with direct reads of the enclosing aligned span, into one of two buffers
 * (three when the layer count is odd), and the next layer's gate is read on a background thread
 * while this one is in use.
 *
 * <p>A layer always uses the same buffer, so {@link #gates()} are fixed views that selectors keep;
 * {@link #acquire} must run before a layer's gate is used and makes sure the view holds it.
 * Callers run layers one at a time (the bundle FFN's {@code forward} is synchronized); layers out
 * of order (two sessions interleaved) are read when asked for, correctly but without overlap.
 */
final class GateStream implements AutoCloseable {
    /** One layer's gate: where its bytes are in the resident file. */
    record Source(WeightTensor mapped, long fileOffset) {}

    private final BlockFile file;
    private final Arena arena = Arena.ofShared();
    private final List<Source> sources;
    private final long[] spanStart;
    private final long[] spanBytes;
    private final int[] slotOf;
    private final MemorySegment[] slots;
    /** Per slot: the layer whose gate it holds, or -1 while empty or being read. */
    private final int[] holds;
    private final List<WeightTensor> views;
    private final ExecutorService reader = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "flashllm-gate-reader");
        t.setDaemon(true);
        return t;
    });
    /** Told of every read: layer, bytes, nanoseconds (the layer's flash counters); null until set. */
    interface ReadListener {
        void read(int layer, long bytes, long nanos);
    }

    private volatile ReadListener listener;
    private Future<?> inFlight;
    private int inFlightLayer = -1;

    GateStream(Path residentFile, List<Source> sources, boolean preferDirect) throws IOException {
        if (sources.isEmpty()) throw new IllegalArgumentException("no gates to stream");
        this.file = BlockFile.open(residentFile, preferDirect);
        this.sources = List.copyOf(sources);
        int layers = sources.size();
        spanStart = new long[layers];
        spanBytes = new long[layers];
        long largest = 0;
        for (int l = 0; l < layers; l++) {
            Source s = sources.get(l);
            if (s.fileOffset() < 0 || s.fileOffset() + s.mapped().data().byteSize() > file.size()) {
                file.close();
                throw new IOException(residentFile + ": gate " + s.mapped().name() + " (" + s.mapped().data().byteSize()
                        + " bytes at offset " + s.fileOffset() + ") lies beyond the end of the file (" + file.size() + " bytes)");
            }
            long start = s.fileOffset() / BlockFile.ALIGNMENT * BlockFile.ALIGNMENT;
            long end = Math.min(align(s.fileOffset() + s.mapped().data().byteSize()), align(file.size()));
            spanStart[l] = start;
            spanBytes[l] = end - start;
            largest = Math.max(largest, spanBytes[l]);
        }
        int slotCount = slotCount(layers);
        slotOf = new int[layers];
        for (int l = 0; l < layers; l++) slotOf[l] = slotFor(l, layers);
        slots = new MemorySegment[slotCount];
        holds = new int[slotCount];
        for (int s = 0; s < slotCount; s++) {
            slots[s] = arena.allocate(largest, BlockFile.ALIGNMENT);
            holds[s] = -1;
        }
        List<WeightTensor> v = new ArrayList<>(layers);
        for (int l = 0; l < layers; l++) {
            WeightTensor g = sources.get(l).mapped();
            long delta = sources.get(l).fileOffset() - spanStart[l];
            v.add(new WeightTensor(g.name(), g.type(), new long[] {g.cols(), g.rows()},
                    slots[slotOf[l]].asSlice(delta, g.data().byteSize())));
        }
        views = List.copyOf(v);
    }

    /** Buffers needed: two, three for an odd layer count (the last and the first layer are neighbours too). */
    static int slotCount(int layers) {
        return layers == 1 ? 1 : layers % 2 == 0 ? 2 : 3;
    }

    /** Layer {@code l}'s buffer: alternating, so neighbouring layers (the last and the first included) never share one. */
    static int slotFor(int l, int layers) {
        if (layers % 2 == 1 && layers > 1 && l == layers - 1) return 2;
        return l % 2;
    }

    /** The bytes of DRAM this stream holds for {@code layers} gates whose largest aligned span is {@code largestSpan}. */
    static long bufferBytes(int layers, long largestSpan) {
        return slotCount(layers) * largestSpan;
    }

    /** An upper bound of one layer's aligned span for a gate of {@code bytes} bytes. */
    static long spanBound(long bytes) {
        return align(bytes) + BlockFile.ALIGNMENT;
    }

    /** Counts every read from now on (called from the reading thread). */
    void onRead(ReadListener l) {
        this.listener = l;
    }

    /** Per layer, a view of its buffer with the gate's shape and type: valid after {@link #acquire} of that layer. */
    List<WeightTensor> gates() {
        return views;
    }

    /** Makes layer {@code layer}'s gate view hold its gate, and starts reading the next layer's. */
    synchronized void acquire(int layer) {
        int slot = slotOf[layer];
        if (holds[slot] != layer) {
            finishInFlight();
            if (holds[slot] != layer) {
                holds[slot] = -1;
                read(layer);
                holds[slot] = layer;
            }
        }
        int next = (layer + 1) % views.size();
        if (next != layer && holds[slotOf[next]] != next && inFlightLayer != next) {
            finishInFlight();
            int s = slotOf[next];
            holds[s] = -1;
            inFlightLayer = next;
            inFlight = reader.submit(() -> read(next));
        }
    }

    private void finishInFlight() {
        if (inFlight == null) return;
        try {
            inFlight.get();
            holds[slotOf[inFlightLayer]] = inFlightLayer;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading a gate matrix", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } finally {
            inFlight = null;
            inFlightLayer = -1;
        }
    }

    private void read(int layer) {
        MemorySegment dst = slots[slotOf[layer]].asSlice(0, spanBytes[layer]);
        long end = spanStart[layer] + spanBytes[layer];
        if (end <= file.size() || !file.direct()) {
            readChunked(layer, dst.asSlice(0, Math.min(spanBytes[layer], file.size() - spanStart[layer])), spanStart[layer]);
        } else {
            // The file ends inside the last block: direct reads up to it, the tail from the mapping.
            long whole = (file.size() - spanStart[layer]) / BlockFile.ALIGNMENT * BlockFile.ALIGNMENT;
            if (whole > 0) readChunked(layer, dst.asSlice(0, whole), spanStart[layer]);
            Source s = sources.get(layer);
            long delta = s.fileOffset() - spanStart[layer];
            long from = Math.max(0, whole - delta);
            MemorySegment.copy(s.mapped().data(), from, dst, delta + from, s.mapped().data().byteSize() - from);
        }
    }

    /**
     * One read at a time of at most {@link #CHUNK} bytes: the disk streams 1 MiB reads at depth 1
     * nearly as fast as deeper (1.38 against 1.44 GiB/s, fio), and the neuron reads of the layer
     * that is running then wait behind one chunk, not behind the whole matrix.
     */
    private void readChunked(int layer, MemorySegment dst, long offset) {
        for (long done = 0; done < dst.byteSize(); done += CHUNK) {
            long n = Math.min(CHUNK, dst.byteSize() - done);
            long t0 = System.nanoTime();
            file.readFully(dst.asSlice(done, n), offset + done);
            ReadListener l = listener;
            if (l != null) l.read(layer, n, System.nanoTime() - t0);
        }
    }

    static final long CHUNK = 1 << 20;

    private static long align(long v) {
        return (v + BlockFile.ALIGNMENT - 1) / BlockFile.ALIGNMENT * BlockFile.ALIGNMENT;
    }

    @Override
    public void close() {
        reader.shutdownNow();
        try {
            reader.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            file.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            arena.close();
        }
    }
}
