package io.flashllm.engine.sampling;

/** Picks the k largest values' indices with a bounded min-heap, in place in the output array (no allocation). */
final class TopK {
    private TopK() {}

    /**
     * Writes the indices of the {@code k} largest of {@code values[0..n)} into {@code out[0..k)}, largest first;
     * equal values order by lower index first. Returns min(k, n).
     */
    static int select(float[] values, int n, int k, int[] out) {
        k = Math.min(k, n);
        if (k <= 0) {
            return 0;
        }
        int size = 0;
        for (int i = 0; i < n; i++) {
            if (size < k) {
                out[size] = i;
                siftUp(values, out, size++);
            } else if (worse(values, out[0], i)) {
                out[0] = i;
                siftDown(values, out, 0, 0, size);
            }
        }
        // Heap-sort: repeatedly move the worst to the end, leaving best first.
        for (int end = size - 1; end > 0; end--) {
            int t = out[0];
            out[0] = out[end];
            out[end] = t;
            siftDown(values, out, 0, 0, end);
        }
        return size;
    }

    /**
     * Sorts the candidate ids {@code idx[off..off+n)} by value, largest first, lower id first on ties (heap sort,
     * in place).
     */
    static void sortDescending(float[] values, int[] idx, int off, int n) {
        for (int i = n / 2 - 1; i >= 0; i--) {
            siftDown(values, idx, off, i, n);
        }
        for (int end = n - 1; end > 0; end--) {
            int t = idx[off];
            idx[off] = idx[off + end];
            idx[off + end] = t;
            siftDown(values, idx, off, 0, end);
        }
    }

    /** True if token a ranks below token b (smaller value, or same value and higher id): the heap keeps the worst on top. */
    private static boolean worse(float[] v, int a, int b) {
        return v[a] < v[b] || (v[a] == v[b] && a > b);
    }

    private static void siftUp(float[] v, int[] h, int i) {
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (!worse(v, h[i], h[p])) break;
            int t = h[i]; h[i] = h[p]; h[p] = t;
            i = p;
        }
    }

    /** Sift-down in the heap {@code h[off..off+size)}. */
    private static void siftDown(float[] v, int[] h, int off, int i, int size) {
        while (true) {
            int l = 2 * i + 1;
            if (l >= size) break;
            int r = l + 1;
            int m = r < size && worse(v, h[off + r], h[off + l]) ? r : l;
            if (!worse(v, h[off + m], h[off + i])) break;
            int t = h[off + i]; h[off + i] = h[off + m]; h[off + m] = t;
            i = m;
        }
    }
}
