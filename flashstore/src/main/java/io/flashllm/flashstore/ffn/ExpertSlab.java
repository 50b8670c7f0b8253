package io.flashllm.flashstore.ffn;

import io.flashllm.flashstore.io.BlockFile;
import io.flashllm.flashstore.io.IoEngine;
import io.flashllm.flashstore.io.ReadBatch;
import io.flashllm.kernels.WeightTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * A mixture's experts in DRAM slots of their own, read from the model file with direct reads, many in flight, as a
 * flash bundle reads its neurons: not through the page cache, which under a memory limit spends the reading thread's
 * time reclaiming pages and reads an expert at a fraction of what the disk gives (docs/benchmarks.md §11). Each slot
 * holds one expert's matrices; an expert read into a slot replaces its mapped weights in the {@link DenseFeedForward}
 * that computes it, and gets them back when its slot is given to another ({@link #release}). Which experts keep a
 * slot is the caller's choice ({@link ExpertResidency}); the slab only reads and swaps.
 *
 * <p>The reads go straight into the slots, not through a buffer and a copy (12.6 MiB per gpt-oss expert, copied on the
 * I/O thread while both cores compute): each matrix takes a region of whole blocks laid out as the blocks around it
 * in the file, the matrix at its offset within its first block.
 *
 * <p>Not thread-safe: the model runs one pass at a time.
 */
public final class ExpertSlab implements AutoCloseable {
    /** Where a mapped tensor's bytes start in the model file. */
    @FunctionalInterface
    public interface FileOffsets {
        long of(WeightTensor mapped);
    }

    /** Largest read: reads this large, several per matrix, all of a pass's experts in flight together. */
    static final int MAX_READ_BYTES = 1 << 20;
    private static final long ALIGN = BlockFile.ALIGNMENT;

    private final DenseFeedForward experts;
    /** Each expert's weights over the mapped file, given back on release. */
    private final DenseFfnLayer[] mapped;
    private final FileOffsets offsets;
    private final long slotBytes;
    private final int slots;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment memory;
    private final int[] slotOf;
    private final int[] freeSlots;
    private int free;
    private final BlockFile file;
    private final IoEngine io;
    private final ReadBatch batch;
    private final int[] pending;
    private int pendingCount;
    /** This slab's read size: {@link #MAX_READ_BYTES}, or a small model's largest matrix in whole blocks. */
    private final int readBytes;

    /**
     * @param path     the model file
     * @param experts  every expert's weights (over the mapped file), global index {@code layer * experts + e}
     * @param slots    experts held at once
     * @param maxPass  most experts one round requests before {@link #load}
     * @param depth    reads in flight
     */
    public ExpertSlab(Path path, FileOffsets offsets, DenseFeedForward experts, int expertCount, int slots, int maxPass,
                      int depth, boolean preferDirect) {
        if (slots < maxPass) throw new IllegalArgumentException(slots + " expert slots for passes of " + maxPass);
        this.experts = experts;
        this.offsets = offsets;
        this.mapped = new DenseFfnLayer[expertCount];
        long largest = 0;
        int readsPerExpert = 0;
        this.readBytes = readBytes(experts, expertCount);
        for (int g = 0; g < expertCount; g++) {
            mapped[g] = experts.layer(g);
            largest = Math.max(largest, slotBytes(mapped[g], offsets));
            int reads = 0;
            for (WeightTensor t : matrices(mapped[g])) reads += (int) ((t.data().byteSize() + 2 * ALIGN) / readBytes + 1);
            readsPerExpert = Math.max(readsPerExpert, reads);
        }
        this.slotBytes = largest;
        this.slots = slots;
        this.memory = arena.allocate(largest * slots, ALIGN);
        this.slotOf = new int[expertCount];
        java.util.Arrays.fill(slotOf, -1);
        this.freeSlots = new int[slots];
        for (int s = 0; s < slots; s++) freeSlots[s] = slots - 1 - s;
        this.free = slots;
        int capacity = readsPerExpert * maxPass;
        this.pending = new int[maxPass];
        try {
            this.file = BlockFile.open(path, preferDirect);
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException(e);
        }
        try {
            this.io = new IoEngine(depth, readBytes, true, false);
        } catch (RuntimeException e) {
            try {
                file.close();
            } catch (IOException ignored) {
                // the engine's failure is the one to report
            }
            arena.close();
            throw e;
        }
        this.batch = new ReadBatch(capacity);
        this.batch.handler((i, data, nanos) -> { }); // read into its slot already
    }

    /**
     * A slab within {@code budget} bytes (its slots), or null when that holds fewer than
     * {@code used} experts (one pass's).
     */
    public static ExpertSlab within(long budget, Path path, FileOffsets offsets, DenseFeedForward experts, int expertCount,
                                    int used, int perLayer, int depth, boolean preferDirect) {
        long largest = 0;
        for (int g = 0; g < expertCount; g++) largest = Math.max(largest, slotBytes(experts.layer(g), offsets));
        long slots = Math.min(expertCount, budget / largest);
        if (slots < used) return null;
        // A round takes a token's experts, or a batch's (up to a layer's all) where the slots hold them with room to spare.
        int maxPass = (int) Math.max(used, Math.min(perLayer, slots / 2));
        return new ExpertSlab(path, offsets, experts, expertCount, (int) slots, maxPass, depth, preferDirect);
    }

    /** The read size: the largest matrix and a block either side (its ends need not be aligned), at most {@link #MAX_READ_BYTES}. */
    static int readBytes(DenseFeedForward experts, int expertCount) {
        long largest = 0;
        for (int g = 0; g < expertCount; g++) {
            for (WeightTensor t : matrices(experts.layer(g))) largest = Math.max(largest, t.data().byteSize());
        }
        return (int) Math.min(MAX_READ_BYTES, (largest + 2 * ALIGN - 1) / ALIGN * ALIGN);
    }

    /** Bytes one expert's slot takes: each matrix's region ({@link #regionBytes}). */
    static long slotBytes(DenseFfnLayer l, FileOffsets offsets) {
        long n = 0;
        for (WeightTensor t : matrices(l)) n += regionBytes(t, offsets.of(t));
        return n;
    }

    /** A matrix's region of a slot: the whole blocks of the file it lies in. */
    private static long regionBytes(WeightTensor t, long fileOffset) {
        return (fileOffset % ALIGN + t.data().byteSize() + ALIGN - 1) / ALIGN * ALIGN;
    }

    private static WeightTensor[] matrices(DenseFfnLayer l) {
        return l.gate() == null ? new WeightTensor[] {l.up(), l.down()} : new WeightTensor[] {l.gate(), l.up(), l.down()};
    }

    public long slotBytes() {
        return slotBytes;
    }

    public int slots() {
        return slots;
    }

    /** Most experts one round ({@link #request}s then {@link #load}) takes. */
    public int maxPass() {
        return pending.length;
    }

    /** How the reads go: direct or buffered, native AIO or threads. */
    public String describe() {
        return (file.direct() ? "direct" : "buffered") + " reads, " + io.describe();
    }

    /** Whether expert {@code g} is in a slot (or being read into one). */
    public boolean holds(int g) {
        return slotOf[g] >= 0;
    }

    /** Gives expert {@code g} a free slot and queues its reads; {@link #load} reads it. */
    public void request(int g) {
        if (slotOf[g] >= 0) return;
        if (free == 0) throw new IllegalStateException("no free expert slot for expert " + g);
        if (pendingCount == pending.length) throw new IllegalStateException("more than " + pending.length + " experts in one pass");
        int slot = freeSlots[--free];
        slotOf[g] = slot;
        pending[pendingCount++] = g;
        long at = (long) slot * slotBytes;
        for (WeightTensor t : matrices(mapped[g])) {
            long length = t.data().byteSize();
            long start = offsets.of(t);
            long end = start + length;
            long first = start / ALIGN * ALIGN;
            long region = regionBytes(t, start);
            // Whole blocks, each where it lies relative to the first; the file's last partial block (if this matrix
            // reaches it) is copied from the mapping instead, since a direct read there stops short at the end of the file.
            long readEnd = Math.min(first + region, file.size() / ALIGN * ALIGN);
            for (long c = first; c < readEnd; c += readBytes) {
                int n = (int) Math.min(readBytes, readEnd - c);
                batch.add(file, c, n, memory.asSlice(at + c - first, n));
            }
            if (readEnd < end) {
                long from = Math.max(start, readEnd);
                MemorySegment.copy(t.data(), from - start, memory, at + from - first, end - from);
            }
            at += region;
        }
    }

    /**
     * Reads every requested expert (all at once), then computes each from its slot. When a read fails (the file cut
     * short, the disk gone) the experts of the round keep their mapped weights and free their slots, and the error,
     * naming the file, goes to the caller.
     */
    public void load() {
        submit();
        await();
    }

    /** Starts reading the requested experts and returns at once; {@link #await} finishes the round. */
    public void submit() {
        if (pendingCount > 0 && batch.size() > 0) io.submit(batch);
    }

    /** Waits for the round's reads, then computes each expert read from its slot (see {@link #load}). */
    public void await() {
        if (pendingCount == 0) return;
        try {
            if (batch.size() > 0) batch.await();
        } catch (RuntimeException e) {
            for (int i = 0; i < pendingCount; i++) {
                int g = pending[i];
                freeSlots[free++] = slotOf[g];
                slotOf[g] = -1;
            }
            pendingCount = 0;
            throw e;
        } finally {
            batch.clear();
        }
        for (int i = 0; i < pendingCount; i++) {
            int g = pending[i];
            experts.replaceLayer(g, inSlot(mapped[g], slotOf[g]));
        }
        pendingCount = 0;
    }

    /** Expert {@code g} leaves its slot: it is computed from the mapped file again (and its slot is free). */
    public void release(int g) {
        int slot = slotOf[g];
        if (slot < 0) return;
        experts.replaceLayer(g, mapped[g]);
        slotOf[g] = -1;
        freeSlots[free++] = slot;
    }

    /** The expert's matrices over its slot (read-only, as the mapped ones), its biases still mapped. */
    private DenseFfnLayer inSlot(DenseFfnLayer l, int slot) {
        long[] at = {(long) slot * slotBytes};
        WeightTensor gate = l.gate() == null ? null : view(l.gate(), at);
        WeightTensor up = view(l.up(), at);
        WeightTensor down = view(l.down(), at);
        return new DenseFfnLayer(gate, up, l.upBias(), down, l.downBias(), l.gateBias());
    }

    /** The matrix in its region at {@code at[0]}, which moves past the region. */
    private WeightTensor view(WeightTensor t, long[] at) {
        long start = offsets.of(t);
        MemorySegment data = memory.asSlice(at[0] + start % ALIGN, t.data().byteSize()).asReadOnly();
        at[0] += regionBytes(t, start);
        return new WeightTensor(t.name(), t.type(), t.shape(), data);
    }

    @Override
    public void close() {
        for (int g = 0; g < mapped.length; g++) release(g);
        io.close();
        try {
            file.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            arena.close();
        }
    }
}
