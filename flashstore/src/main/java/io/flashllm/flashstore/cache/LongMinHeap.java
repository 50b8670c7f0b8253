package io.flashllm.flashstore.cache;

/**
 * A binary min-heap of longs over a caller's array, for ranking (key bits, id) pairs on the
 * decode path without allocating: the caller keeps the array and the size.
 */
public final class LongMinHeap {
    private LongMinHeap() {}

    /** Adds {@code key} to {@code heap[0..size)}; the caller then counts size + 1. */
    public static void push(long[] heap, int size, long key) {
        int i = size;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= key) break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = key;
    }

    /** Replaces the minimum of {@code heap[0..size)} (size > 0) with {@code key}, keeping the order. */
    public static void replaceMin(long[] heap, int size, long key) {
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) break;
            if (child + 1 < size && heap[child + 1] < heap[child]) child++;
            if (key <= heap[child]) break;
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = key;
    }

    /** Removes and returns the minimum of {@code heap[0..size)} (size > 0); the caller then counts size - 1. */
    public static long pop(long[] heap, int size) {
        long top = heap[0];
        if (size > 1) replaceMin(heap, size - 1, heap[size - 1]);
        return top;
    }
}
