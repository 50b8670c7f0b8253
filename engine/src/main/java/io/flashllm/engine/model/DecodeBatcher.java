package io.flashllm.engine.model;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Decode steps of concurrent sequences of one model, run as one batch: each weight is read once for
 * every sequence's next token instead of once per sequence (llama.cpp's server batches its slots
 * the same way). What that gains depends on whether the small-batch products are bound by memory
 * or by the CPU's multiply-adds: on a 2-core Zen 4, four to six streams of a 1.1B Q8_0 model 1.14-1.22x
 * (docs/benchmarks.md §6).
 *
 * <p>A sequence's step is enqueued here; one thread at a time leads ({@link #awaitTurn}): it takes
 * the model's lock, waits (2 ms unless configured) for the sequences that decoded lately to enqueue
 * their next steps, takes its own and up to {@link #MAX_ROWS} - 1 others, runs them and marks them
 * done ({@link #complete}); the other threads wait here for their step to be done or for their turn
 * to lead. A sequence that stopped decoding costs one such wait, which drops
 * it from those waited for. Fewer than {@link #MIN_ROWS} steps run one after another, each exactly
 * as without batching.
 */
final class DecodeBatcher {
    /**
     * Sequences decoded in one batch at most: below the 8 rows from which the matrix products
     * switch to the prompt's panel kernel, whose 16-lane tiles cost as much for 8 rows as for 16
     * (KernelBench `--batch`, Q8_0 on a Zen 4: 4 rows 2.2 ms, 7 rows 3.5, 8 rows 5.7, one row 0.77).
     */
    static final int MAX_ROWS = 7;
    /**
     * Fewer steps than this run one after another (each as it would alone): two or three rows cost
     * more through the small-batch products than as separate ones (2.2 and 2.6 ms against 1.5 and 2.3).
     */
    static final int MIN_ROWS = 4;
    /**
     * How long a leader waits by default for the sequences that decoded lately: covers a sampler
     * and an HTTP write between two steps, far below a step of any model worth batching.
     */
    static final long DEFAULT_WAIT_MICROS = 2_000;

    /** One sequence's next decode step: one object per sequence, reused for every step. */
    static final class Step {
        final Transformer sequence;
        // Written by the sequence's thread before it enqueues the step, read by the leader after
        // taking it from the queue (both under this batcher's monitor).
        int token;
        int pos;
        private boolean done;      // guarded by the batcher's monitor
        private Throwable failure; // written by the leader, published by complete()

        Step(Transformer sequence) {
            this.sequence = sequence;
        }

        /** Makes this the sequence's next step; its thread then {@link #enqueue}s it. */
        void reset(int token, int pos) {
            this.token = token;
            this.pos = pos;
            this.done = false;
            this.failure = null;
        }

        Throwable failure() {
            return failure;
        }

        /** Records the failure that ended this step; {@link #complete} then marks it done. */
        void fail(Throwable failure) {
            this.failure = failure;
        }
    }

    private final ArrayDeque<Step> pending = new ArrayDeque<>();
    /**
     * Sequences that decoded lately: a leader waits for these (identity: a sequence is its
     * transformer). Each batch adds its sequences; a wait that runs out drops those still missing.
     */
    private final Set<Transformer> recent = Collections.newSetFromMap(new IdentityHashMap<>());
    private final long waitNanos;
    // The list take() returns, reused: one leader at a time holds the model lock while it uses it.
    private final List<Step> batch = new ArrayList<>(MAX_ROWS);
    private boolean leading;
    private long batches;
    private long waitsRunOut;
    private long batchedSteps;
    private long batchedPasses;

    DecodeBatcher(long waitNanos) {
        this.waitNanos = waitNanos;
    }

    void enqueue(Step step) {
        synchronized (this) {
            pending.addLast(step);
            notifyAll();
        }
    }

    /**
     * Waits until {@code own} is done (false) or no batch is being led and this thread leads the
     * next one (true; it must then take the model's lock, {@link #take} and {@link #complete}).
     * Waiting here, not on the model's lock, lets a thread whose step a batch ran return and
     * enqueue its next step while the next leader waits for it.
     */
    boolean awaitTurn(Step own) throws InterruptedException {
        synchronized (this) {
            while (!own.done) {
                if (!leading) {
                    leading = true;
                    return true;
                }
                wait();
            }
            return false;
        }
    }

    /**
     * The steps to run now, {@code own} first, for a leader holding the model lock: waits until every
     * open sequence that decoded lately has a step pending (or {@link #MAX_ROWS} are), at most
     * the configured wait.
     */
    List<Step> take(Step own) throws InterruptedException {
        synchronized (this) {
            long deadline = System.nanoTime() + waitNanos;
            boolean complete;
            while (!(complete = pending.size() >= MAX_ROWS || recentArePending())) {
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            if (!complete) {
                waitsRunOut++;
                recent.removeIf(t -> !isPending(t));
            }
            List<Step> batch = this.batch;
            batch.clear();
            pending.remove(own);
            batch.add(own);
            while (batch.size() < MAX_ROWS && !pending.isEmpty()) batch.add(pending.pollFirst());
            for (Step s : batch) recent.add(s.sequence);
            recent.removeIf(Transformer::isClosed);
            batches++;
            if (batch.size() >= MIN_ROWS) {
                batchedPasses++;
                batchedSteps += batch.size();
            }
            return batch;
        }
    }

    /** Marks the batch's steps done and ends this leader's turn (the batch may be empty: a leader that failed before taking). */
    void complete(List<Step> batch) {
        synchronized (this) {
            for (Step s : batch) s.done = true;
            leading = false;
            notifyAll();
        }
    }

    /** A sequence closed: a leader waiting for it stops waiting. */
    void closed() {
        synchronized (this) {
            notifyAll();
        }
    }

    /** Takes back a step its thread gave up on before it ran (the leader was interrupted while waiting). */
    void withdraw(Step step) {
        synchronized (this) {
            pending.remove(step);
        }
    }

    /** Decode steps that ran in one pass with others ({@link #MIN_ROWS} or more), since the model loaded. */
    synchronized long batchedSteps() {
        return batchedSteps;
    }

    /** Passes that ran {@link #MIN_ROWS} or more steps together, since the model loaded. */
    synchronized long batchedPasses() {
        return batchedPasses;
    }

    /** Leaders' waits that ran out before every sequence that decoded lately had a step pending. */
    synchronized long waitsRunOut() {
        return waitsRunOut;
    }

    /** Batches led, single steps included. */
    synchronized long batches() {
        return batches;
    }

    private boolean recentArePending() {
        for (Transformer t : recent) {
            if (!t.isClosed() && !isPending(t)) return false;
        }
        return true;
    }

    private boolean isPending(Transformer t) {
        for (Step s : pending) {
            if (s.sequence == t) return true;
        }
        return false;
    }
}
