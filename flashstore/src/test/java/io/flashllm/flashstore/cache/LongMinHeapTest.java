package io.flashllm.flashstore.cache;

import org.junit.jupiter.api.Test;

import java.util.PriorityQueue;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LongMinHeapTest {
    /** Random pushes, pops and min replacements agree with the JDK's priority queue at every step. */
    @Test
    void agreesWithPriorityQueue() {
        Random r = new Random(5);
        long[] heap = new long[64];
        int size = 0;
        PriorityQueue<Long> ref = new PriorityQueue<>();
        for (int step = 0; step < 20_000; step++) {
            int op = r.nextInt(3);
            long key = r.nextInt(50) - 10;
            if (op == 0 && size < heap.length) {
                LongMinHeap.push(heap, size++, key);
                ref.add(key);
            } else if (op == 1 && size > 0) {
                assertEquals(ref.poll(), LongMinHeap.pop(heap, size--), "pop at step " + step);
            } else if (size > 0) {
                LongMinHeap.replaceMin(heap, size, key);
                ref.poll();
                ref.add(key);
            }
            assertEquals(ref.size(), size);
            if (size > 0) assertEquals(ref.peek(), heap[0], "minimum at step " + step);
        }
    }

    /** Keeping the K largest of a stream: replace the minimum whenever a larger key comes. */
    @Test
    void keepsTheLargest() {
        long[] heap = new long[5];
        int size = 0;
        for (long k : new long[] {7, 3, 9, 1, 12, 8, 2, 15, 4, 11}) {
            if (size < heap.length) LongMinHeap.push(heap, size++, k);
            else if (k > heap[0]) LongMinHeap.replaceMin(heap, size, k);
        }
        long[] sorted = new long[size];
        for (int i = 0; size > 0; i++) sorted[i] = LongMinHeap.pop(heap, size--);
        assertEquals(java.util.List.of(8L, 9L, 11L, 12L, 15L), java.util.Arrays.stream(sorted).boxed().toList());
    }
}
