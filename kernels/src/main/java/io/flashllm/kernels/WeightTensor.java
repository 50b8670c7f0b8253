package io.flashllm.kernels;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A weight tensor used in place: a typed view over a slice of a memory-mapped file (or any other
 * off-heap segment). Nothing is copied onto the Java heap.
 *
 * <p>Shapes follow ggml order: {@code shape[0]} is the innermost (contiguous) dimension, so a
 * matrix of {@code rows x cols} has shape {@code [cols, rows]}. Every row is a whole number of
 * blocks of {@link #type()}.
 */
public record WeightTensor(String name, GgmlType type, long[] shape, MemorySegment data) {

    public WeightTensor {
        shape = shape.clone();
        long expect = type.bytesFor(elementCount(shape));
        if (expect < 0 || data.byteSize() < expect) {
            throw new IllegalArgumentException("tensor " + name + ": " + data.byteSize()
                    + " bytes cannot hold shape " + Arrays.toString(shape) + " of " + type);
        }
    }

    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Length of the contiguous dimension. */
    public int cols() {
        return Math.toIntExact(shape.length == 0 ? 1 : shape[0]);
    }

    /** Number of rows: product of every dimension but the innermost. */
    public int rows() {
        long r = 1;
        for (int i = 1; i < shape.length; i++) r = Math.multiplyExact(r, shape[i]);
        return Math.toIntExact(r);
    }

    public long elements() {
        return elementCount(shape);
    }

    public long rowBytes() {
        return type.bytesFor(cols());
    }

    /** The bytes of one row. */
    public MemorySegment row(long row) {
        long rb = rowBytes();
        return data.asSlice(row * rb, rb);
    }
}
