package io.flashllm.flashstore.cache;

import io.flashllm.kernels.WeightTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Preallocated off-heap rows, one matrix per part (structure of arrays): row i of every matrix
 * belongs to the same neuron. Each matrix is a {@link WeightTensor} of {@code capacity} rows, so
 * the FFN's kernels run on it in place. The matrices are slices of one allocation ({@link #all},
 * at {@link #partOffset}), so a kernel can read a neuron's gate and up rows in one pass.
 */
public final class RowMatrix {
    private final List<RowShape> shapes;
    private final WeightTensor[] parts;
    private final long[] rowBytes;
    private final int capacity;
    private final long[] partOffset;
    private final MemorySegment all;
    private final MemorySegment swap;

    /** Each part's matrix starts on a cache line. */
    private static final long ALIGN = 64;

    public RowMatrix(List<RowShape> shapes, int capacity, Arena arena) {
        if (capacity < 0) throw new IllegalArgumentException("negative capacity");
        this.shapes = List.copyOf(shapes);
        this.capacity = capacity;
        this.parts = new WeightTensor[shapes.size()];
        this.rowBytes = new long[shapes.size()];
        this.partOffset = new long[shapes.size()];
        this.all = arena.allocate(Math.max(1, allocationBytes(shapes, capacity)), ALIGN);
        long maxRow = 0, at = 0;
        for (int p = 0; p < parts.length; p++) {
            RowShape s = shapes.get(p);
            rowBytes[p] = s.rowBytes();
            maxRow = Math.max(maxRow, rowBytes[p]);
            partOffset[p] = at;
            MemorySegment seg = all.asSlice(at, rowBytes[p] * capacity);
            parts[p] = new WeightTensor(s.name(), s.type(), new long[] {s.elements(), capacity}, seg);
            at = alignUp(at + rowBytes[p] * capacity);
        }
        this.swap = arena.allocate(Math.max(1, maxRow), ALIGN);
    }

    /** Off-heap bytes of {@code capacity} rows (what a budget charges; the allocation adds under 64 per part). */
    public static long bytesFor(List<RowShape> shapes, int capacity) {
        long b = 0;
        for (RowShape s : shapes) b += s.rowBytes() * capacity;
        return b;
    }

    /** {@link #bytesFor} with each part's matrix starting on a cache line. */
    static long allocationBytes(List<RowShape> shapes, int capacity) {
        long b = 0;
        for (RowShape s : shapes) b = alignUp(b + s.rowBytes() * capacity);
        return b;
    }

    private static long alignUp(long n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** The one allocation every part's matrix is a slice of. */
    public MemorySegment all() {
        return all;
    }

    /** Where part {@code p}'s row 0 starts in {@link #all}. */
    public long partOffset(int p) {
        return partOffset[p];
    }

    public int capacity() {
        return capacity;
    }

    public int partCount() {
        return parts.length;
    }

    public List<RowShape> shapes() {
        return shapes;
    }

    public WeightTensor part(int p) {
        return parts[p];
    }

    public long rowBytes(int p) {
        return rowBytes[p];
    }

    /** The bytes of one row of part {@code p}, for loading into. */
    public MemorySegment row(int p, int row) {
        return parts[p].data().asSlice(row * rowBytes[p], rowBytes[p]);
    }

    /** Copies {@code row}'s bytes of part p from {@code src[srcOff..]}. */
    public void load(int p, int row, MemorySegment src, long srcOff) {
        MemorySegment.copy(src, srcOff, parts[p].data(), row * rowBytes[p], rowBytes[p]);
    }

    public void copyRow(int from, int to) {
        for (int p = 0; p < parts.length; p++) {
            MemorySegment d = parts[p].data();
            MemorySegment.copy(d, from * rowBytes[p], d, to * rowBytes[p], rowBytes[p]);
        }
    }

    public void swapRows(int a, int b) {
        if (a == b) return;
        for (int p = 0; p < parts.length; p++) {
            MemorySegment d = parts[p].data();
            long rb = rowBytes[p];
            MemorySegment.copy(d, a * rb, swap, 0, rb);
            MemorySegment.copy(d, b * rb, d, a * rb, rb);
            MemorySegment.copy(swap, 0, d, b * rb, rb);
        }
    }
}
