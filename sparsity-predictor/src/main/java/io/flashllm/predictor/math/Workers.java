package io.flashllm.predictor.math;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * Splits index ranges over a fixed number of threads for the training loops. Training runs once,
 * offline, so a ForkJoin pool with a few tasks per call is plenty (the decode loop never uses this;
 * its selector scores on the model's {@code Parallel} pool, or the calling thread, and allocates
 * nothing per token).
 */
public final class Workers implements AutoCloseable {
    /** Work over {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private final int threads;
    private final ForkJoinPool pool;

    public Workers(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads);
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code body} over {@code [0, n)} split into about 4 pieces per thread; returns when all are done. */
    public void forRange(int n, RangeBody body) {
        if (n <= 0) return;
        int pieces = Math.min(n, pool == null ? 1 : threads * 4);
        if (pieces == 1) {
            body.run(0, n);
            return;
        }
        List<ForkJoinTask<?>> tasks = new ArrayList<>(pieces);
        for (int p = 0; p < pieces; p++) {
            int from = (int) ((long) n * p / pieces);
            int to = (int) ((long) n * (p + 1) / pieces);
            tasks.add(new RecursiveAction() {
                @Override
                protected void compute() {
                    body.run(from, to);
                }
            });
        }
        pool.submit(() -> ForkJoinTask.invokeAll(tasks)).join();
    }

    @Override
    public void close() {
        if (pool != null) pool.close();
    }
}
