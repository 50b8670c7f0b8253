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
                siftDown(values, out, 0, size);
            }
        }
        // Heap-sort: repeatedly move the worst to the end, leaving best first.
        for (int end = size - 1; end > 0; end--) {
            int t = out[0];
            out[0] = out[end];
            out[end] = t;
            siftDown(values, out, 0, end);
        }
        return size;
    }

    /** Same over a candidate subset: sorts {@code idx[0..n)} by value, largest first (heap sort, in place). */
    static void sortDescending(float[] values, int[] idx, int n) {
        for (int i = n / 2 - 1; i >= 0; i--) {
            siftDown(values, idx, i, n);
        }
        for (int end = n - 1; end > 0; end--) {
            int t = idx[0];
            idx[0] = idx[end];
            idx[end] = t;
            siftDown(values, idx, 0, end);
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

    private static void siftDown(float[] v, int[] h, int i, int size) {
        while (true) {
            int l = 2 * i + 1;
            if (l >= size) break;
            int r = l + 1;
            int m = r < size && worse(v, h[r], h[l]) ? r : l;
            if (!worse(v, h[m], h[i])) break;
            int t = h[i]; h[i] = h[m]; h[m] = t;
            i = m;
        }
    }
}
