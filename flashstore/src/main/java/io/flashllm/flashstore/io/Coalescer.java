package io.flashllm.flashstore.io;

/**
 * Turns a sorted list of wanted block indices (bundle groups of one file, all the same size) into
 * runs of neighbouring blocks read with one request each. Flash gives far more throughput per
 * large request than per small one, so neighbours are merged; a gap of up to {@code maxGap}
 * unwanted blocks is read through when that saves a request.
 */
public final class Coalescer {
    private Coalescer() {}

    /**
     * Writes runs as (first block, block count) into {@code runStart}/{@code runLength} and returns
     * how many there are. {@code blocks[0..n)} must be ascending without duplicates; a run never
     * exceeds {@code maxRun} blocks.
     */
    public static int coalesce(int[] blocks, int n, int maxGap, int maxRun, int[] runStart, int[] runLength) {
        return coalesce(blocks, n, maxGap, maxRun, runStart, runLength, 0);
    }

    /** As above, the runs written from index {@code base} of {@code runStart}/{@code runLength}. */
    public static int coalesce(int[] blocks, int n, int maxGap, int maxRun, int[] runStart, int[] runLength, int base) {
        if (maxRun < 1) throw new IllegalArgumentException("maxRun must be >= 1");
        int runs = 0;
        int i = 0;
        while (i < n) {
            int start = blocks[i];
            int end = start + 1;
            i++;
            while (i < n) {
                int b = blocks[i];
                if (b <= end - 1) throw new IllegalArgumentException("blocks must be ascending and distinct");
                if (b - end > maxGap || b + 1 - start > maxRun) break;
                end = b + 1;
                i++;
            }
            runStart[base + runs] = start;
            runLength[base + runs] = end - start;
            runs++;
        }
        return runs;
    }
}
