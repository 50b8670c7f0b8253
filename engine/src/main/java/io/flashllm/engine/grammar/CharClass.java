package io.flashllm.engine.grammar;

import java.util.Arrays;

/** A set of Unicode code points as sorted, disjoint, inclusive ranges; ASCII answers from a bitmap. */
final class CharClass {
    static final int MAX = 0x10FFFF;

    private final int[] ranges; // lo0, hi0, lo1, hi1, ... sorted and merged
    private final long ascii0;  // code points 0-63
    private final long ascii1;  // code points 64-127

    private CharClass(int[] ranges) {
        this.ranges = ranges;
        long a0 = 0, a1 = 0;
        for (int c = 0; c < 128; c++) {
            if (searchContains(c)) {
                if (c < 64) a0 |= 1L << c;
                else a1 |= 1L << (c - 64);
            }
        }
        ascii0 = a0;
        ascii1 = a1;
    }

    static CharClass of(int[] pairs, boolean negated) {
        int n = pairs.length / 2;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> Integer.compare(pairs[2 * x], pairs[2 * y]));
        int[] merged = new int[pairs.length];
        int m = 0;
        for (int k = 0; k < n; k++) {
            int lo = pairs[2 * order[k]], hi = pairs[2 * order[k] + 1];
            if (m > 0 && lo <= merged[m - 1] + 1) {
                merged[m - 1] = Math.max(merged[m - 1], hi);
            } else {
                merged[m++] = lo;
                merged[m++] = hi;
            }
        }
        merged = Arrays.copyOf(merged, m);
        return new CharClass(negated ? complement(merged) : merged);
    }

    static CharClass single(int cp) {
        return new CharClass(new int[] {cp, cp});
    }

    static CharClass any() {
        return new CharClass(new int[] {0, MAX});
    }

    private static int[] complement(int[] r) {
        int[] out = new int[r.length + 2];
        int m = 0;
        int from = 0;
        for (int i = 0; i < r.length; i += 2) {
            if (r[i] > from) {
                out[m++] = from;
                out[m++] = r[i] - 1;
            }
            from = r[i + 1] + 1;
        }
        if (from <= MAX) {
            out[m++] = from;
            out[m++] = MAX;
        }
        return Arrays.copyOf(out, m);
    }

    boolean contains(int cp) {
        if (cp < 64) return (ascii0 >>> cp & 1) != 0;
        if (cp < 128) return (ascii1 >>> (cp - 64) & 1) != 0;
        return searchContains(cp);
    }

    private boolean searchContains(int cp) {
        int lo = 0, hi = ranges.length / 2 - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (cp < ranges[2 * mid]) hi = mid - 1;
            else if (cp > ranges[2 * mid + 1]) lo = mid + 1;
            else return true;
        }
        return false;
    }

    /** Whether any code point in {@code [lo, hi]} is in the set (an unfinished UTF-8 character's possible values). */
    boolean intersects(int lo, int hi) {
        for (int i = 0; i < ranges.length; i += 2) {
            if (ranges[i] <= hi && ranges[i + 1] >= lo) return true;
        }
        return false;
    }
}
