package io.flashllm.flashstore.cache;

import io.flashllm.kernels.WeightTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Preallocated off-heap rows, one matrix per part (structure of arrays): row i of every matrix
 * belongs to the same neuron. Each matrix is a {@link WeightTensor} of {@code capacity} rows, so
 * the FFN's kernels run on it in place.
 */
public final class RowMatrix {
    private final List<RowShape> shapes;
    private final WeightTensor[] parts;
    private final long[] rowBytes;
    private final int capacity;
    private final MemorySegment swap;

    public RowMatrix(List<RowShape> shapes, int capacity, Arena arena) {
        if (capacity < 0) throw new IllegalArgumentException("negative capacity");
        this.shapes = List.copyOf(shapes);
        this.capacity = capacity;
        this.parts = new WeightTensor[shapes.size()];
        this.rowBytes = new long[shapes.size()];
        long maxRow = 0;
        for (int p = 0; p < parts.length; p++) {
            RowShape s = shapes.get(p);
            rowBytes[p] = s.rowBytes();
            maxRow = Math.max(maxRow, rowBytes[p]);
            MemorySegment seg = arena.allocate(Math.max(1, rowBytes[p] * capacity), 64);
            parts[p] = new WeightTensor(s.name(), s.type(), new long[] {s.elements(), capacity}, seg);
        }
        this.swap = arena.allocate(Math.max(1, maxRow), 64);
    }

    /** Off-heap bytes this matrix takes. */
    public static long bytesFor(List<RowShape> shapes, int capacity) {
        long b = 0;
        for (RowShape s : shapes) b += s.rowBytes() * capacity;
        return b;
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
