package io.flashllm.server.http;

import io.flashllm.engine.api.FinishReason;
import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationListener;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.Session;
import io.flashllm.server.metrics.ServerMetrics;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs inference off the event loop: {@code slots} threads, each owning one {@link Session} (its own
 * KV cache), take jobs from one FIFO queue that holds at most {@code queueCapacity} waiting jobs
 * beyond those an idle slot is about to take. A cancelled job stops at its next token, or at the next
 * prompt-progress callback while its prompt is processed, and frees its slot.
 *
 * <p>Which idle slot takes the job at the head of the queue: one whose last request the prompt
 * continues (its session holds all of that request's prompt, or all but its last token, at the
 * start of this one: a conversation's next turn, sent with the whole history as chat clients do, or
 * the same prompt again), and among those the one whose KV cache holds the longest start of the
 * prompt, so that only the new tokens run. Any other prompt takes the slot idle the longest, as in
 * llama.cpp's server, so that a new conversation leaves the recent ones' caches alone even when it
 * shares their system prompt (the slot it takes reuses whatever start it has in common). A session
 * keeps what it cached until its slot takes another job; with a {@link KvSpill}, what it held then
 * goes to flash first, and a job that continues a conversation saved there takes it back into its
 * slot before its prompt runs.
 */
final class InferenceScheduler implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(InferenceScheduler.class.getName());

    private final InferenceModel model;
    private final int contextLength;
    private final int queueCapacity;
    private final ServerMetrics metrics;
    private final KvSpill spill; // null: conversations whose slot is taken are dropped
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<InferenceJob> waiting = new ArrayDeque<>();
    private final List<InferenceJob> runningJobs = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicInteger running = new AtomicInteger();
    // Per slot, guarded by the lock: waiting for a job, its session (null before the first job and
    // after a failure), the prompt length of the last job it ran, and when it last took a job (a
    // count of takes, for "idle the longest").
    private final boolean[] idle;
    private final Session[] sessions;
    private final int[] lastPromptLength;
    private final long[] lastTaken;
    private long takes;
    // The last choice, kept while neither the head job nor the idle slots change: every idle slot
    // asks when woken, and the answer compares prompts with every idle session.
    private InferenceJob chosenFor;
    private int chosenSlot;
    private boolean choiceStale = true;
    private int idleSlots;
    private boolean accepting = true;
    private boolean stopped;

    InferenceScheduler(InferenceModel model, int slots, int queueCapacity, int contextLength, ServerMetrics metrics) {
        this(model, slots, queueCapacity, contextLength, metrics, null);
    }

    InferenceScheduler(InferenceModel model, int slots, int queueCapacity, int contextLength, ServerMetrics metrics,
                       KvSpill spill) {
        this.model = model;
        this.spill = spill;
        this.contextLength = contextLength;
        this.queueCapacity = queueCapacity;
        this.metrics = metrics;
        this.idle = new boolean[slots];
        this.sessions = new Session[slots];
        this.lastTaken = new long[slots];
        this.lastPromptLength = new int[slots];
        Arrays.fill(idle, true);
        this.idleSlots = slots;
        for (int i = 0; i < slots; i++) {
            int slot = i;
            Thread t = Thread.ofPlatform().name("flashllm-slot-" + i).daemon(true).unstarted(() -> slotLoop(slot));
            threads.add(t);
        }
        threads.forEach(Thread::start);
    }

    int running() { return running.get(); }

    int queued() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    int slots() { return threads.size(); }

    /** Queues the job; false when the queue is full or the scheduler no longer accepts work. */
    boolean submit(InferenceJob job) {
        lock.lock();
        try {
            if (!accepting || waiting.size() >= queueCapacity + idleSlots) return false;
            job.submittedNanos = System.nanoTime();
            waiting.addLast(job);
            changed.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Cancels the job wherever it is: a queued job leaves the queue and hears onCancelled now; a
     * running one stops at its next token.
     */
    void cancel(InferenceJob job, CancelReason reason) {
        if (!job.markCancelled(reason)) return;
        boolean removed;
        lock.lock();
        try {
            removed = waiting.remove(job);
        } finally {
            lock.unlock();
        }
        if (removed) {
            metrics.cancelled(reason.tag());
            job.listener.onCancelled();
        }
    }

    /** Refuses new jobs from now on; queued and running ones carry on. */
    void stopAccepting() {
        lock.lock();
        try {
            accepting = false;
        } finally {
            lock.unlock();
        }
    }

    /** True once no job is queued or running. */
    boolean idle() {
        lock.lock();
        try {
            return waiting.isEmpty() && runningJobs.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** Cancels every queued and running job with the given reason. */
    void cancelAll(CancelReason reason) {
        List<InferenceJob> all = new ArrayList<>();
        lock.lock();
        try {
            all.addAll(waiting);
            all.addAll(runningJobs);
        } finally {
            lock.unlock();
        }
        for (InferenceJob j : all) cancel(j, reason);
    }

    /**
     * Waits until the job at the head of the queue is this slot's to take (see the class comment).
     * The slot is idle from its start, or from {@link #finished} on.
     */
    private InferenceJob take(int slot) throws InterruptedException {
        lock.lock();
        try {
            while (!stopped && (waiting.isEmpty() || chooseSlot(waiting.peekFirst()) != slot)) changed.await();
            if (stopped) return null;
            InferenceJob job = waiting.pollFirst();
            idle[slot] = false;
            idleSlots--;
            choiceStale = true;
            lastTaken[slot] = ++takes;
            runningJobs.add(job);
            running.incrementAndGet();
            // The next job in the queue may be another idle slot's.
            if (!waiting.isEmpty()) changed.signalAll();
            return job;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The idle slot that the job's prompt continues, with the longest start of it cached; else the
     * slot idle the longest (see the class comment). Among equals, the one idle longest.
     */
    private int chooseSlot(InferenceJob job) {
        if (job == chosenFor && !choiceStale) return chosenSlot;
        int[] prompt = job.prompt;
        int best = -1, bestPrefix = 0, longestIdle = -1;
        for (int i = 0; i < idle.length; i++) {
            if (!idle[i]) continue;
            if (longestIdle < 0 || lastTaken[i] < lastTaken[longestIdle]) longestIdle = i;
            if (sessions[i] == null) continue;
            int prefix = sessions[i].reusablePrefix(prompt);
            if (!Continuation.continues(prefix, lastPromptLength[i])) continue;
            if (best < 0 || prefix > bestPrefix || (prefix == bestPrefix && lastTaken[i] < lastTaken[best])) {
                best = i;
                bestPrefix = prefix;
            }
        }
        if (best < 0) best = longestIdle;
        chosenFor = job;
        chosenSlot = best;
        choiceStale = false;
        return best;
    }

    /**
     * The slot is idle again, with {@code session} and what its KV cache holds, before the job's
     * client hears the outcome: a client that sends its next turn at once finds the slot that holds
     * the conversation among the idle ones.
     */
    private void finished(InferenceJob job, int slot, Session session) {
        lock.lock();
        try {
            runningJobs.remove(job);
            running.decrementAndGet();
            idle[slot] = true;
            sessions[slot] = session;
            lastPromptLength[slot] = job.prompt.length;
            idleSlots++;
            choiceStale = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Before a job that does not continue this slot's conversation: the conversation goes to flash,
     * and one saved there that the job continues comes back into the session.
     */
    private void swap(Session session, int slot, InferenceJob job) {
        if (!session.kvSavable()) return;
        int have = session.reusablePrefix(job.prompt);
        int last = lastPromptLength[slot]; // written by this thread, in finished()
        if (Continuation.continues(have, last)) return; // it continues what the slot holds
        KvSpill.Entry saved = spill.take(job.prompt, have);
        spill.spill(session, last);
        if (saved != null) spill.restore(saved, session);
    }

    /** How one job ended; delivered to its listener only after the slot is released. */
    private record Outcome(GenerationResult result, float[][] embeddings, Throwable error, boolean sessionBroken) {
        static final Outcome CANCELLED = new Outcome(null, null, null, false);

        static Outcome failed(Throwable error, boolean sessionBroken) {
            return new Outcome(null, null, error, sessionBroken);
        }
    }

    private void slotLoop(int slot) {
        Session session = null;
        try {
            while (true) {
                InferenceJob job = take(slot);
                if (job == null) return;
                Outcome outcome;
                try {
                    if (session == null) session = model.openSession(contextLength);
                    if (spill != null) swap(session, slot, job);
                    outcome = run(session, job);
                } catch (Throwable t) {
                    // openSession failed (memory, bad context length): the job must still get an answer.
                    LOG.log(Level.ERROR, "cannot open a session", t);
                    outcome = Outcome.failed(t, false);
                }
                if (outcome.sessionBroken() && session != null) {
                    // The engine threw: its session may hold half-written state, so start afresh.
                    closeQuietly(session);
                    session = null;
                }
                // Free the slot first, so that when the client has its answer the gauges already agree.
                finished(job, slot, session);
                deliver(job, outcome);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (session != null) closeQuietly(session);
        }
    }

    private void deliver(InferenceJob job, Outcome o) {
        if (o.result() != null) {
            job.listener.onFinish(o.result());
        } else if (o.embeddings() != null) {
            job.listener.onEmbeddings(o.embeddings());
        } else if (o.error() != null) {
            job.listener.onError(o.error());
        } else {
            job.listener.onCancelled();
        }
    }

    /** Runs one job to its end. */
    private Outcome run(Session session, InferenceJob job) {
        long start = System.nanoTime();
        metrics.queueWait(start - job.submittedNanos);
        if (job.cancelled()) {
            metrics.cancelled(job.cancelReason().tag());
            return Outcome.CANCELLED;
        }
        job.listener.onStart();
        if (job.embeddings != null) return embed(session, job);
        TimingListener listener = new TimingListener(job);
        GenerationResult result;
        try {
            if (job.scorePrompt >= 0) {
                // The prompt runs from its start with every position's logits; the generation then reuses it, so
                // the answer counts the prompt as run (nothing cached) and its time as the prompt's.
                long scoring = System.nanoTime();
                job.listener.onPromptLogprobs(session.scorePrompt(job.prompt, job.scorePrompt, listener));
                scoring = System.nanoTime() - scoring;
                GenerationResult r = session.generate(job.prompt, job.params, listener);
                result = new GenerationResult(r.promptTokens(), 0, r.tokens(), r.text(), r.finishReason(),
                        scoring + r.promptNanos(), r.generationNanos());
            } else {
                result = session.generate(job.prompt, job.params, listener);
            }
        } catch (Throwable t) {
            return unwound(job, t, "generation");
        }
        metrics.promptTokens(job.prompt.length, result.cachedPromptTokens());
        metrics.endToEnd(System.nanoTime() - job.arrivalNanos);
        // A cancel that lands after the last token leaves a complete result: that is not a cancellation.
        if (result.finishReason() == FinishReason.CANCELLED && job.cancelled()) metrics.cancelled(job.cancelReason().tag());
        return new Outcome(result, null, null, false);
    }

    /** Runs an embeddings job: its inputs one after another, each from position 0. */
    private Outcome embed(Session session, InferenceJob job) {
        InferenceJob.Embeddings work = job.embeddings;
        GenerationListener progress = new GenerationListener() {
            @Override
            public boolean onToken(GeneratedToken token) {
                return true;
            }

            @Override
            public void onPromptProgress(int done, int total) {
                if (job.cancelled()) throw new JobCancelledException();
            }
        };
        float[][] vectors = new float[work.inputs().length][];
        try {
            for (int i = 0; i < vectors.length; i++) vectors[i] = session.embed(work.inputs()[i], work.pooling(), progress);
        } catch (Throwable t) {
            return unwound(job, t, "embedding");
        }
        metrics.embedded(vectors.length, work.tokenCount());
        return new Outcome(null, vectors, null, false);
    }

    /** What a job's engine call that threw comes to: a cancellation, or a failure that breaks the session. */
    private Outcome unwound(InferenceJob job, Throwable t, String what) {
        if (t instanceof JobCancelledException) {
            // Thrown from our own prompt-progress callback, where the engine's state is consistent:
            // the session (and the prompt prefix it cached) stays usable.
            metrics.cancelled(job.cancelReason().tag());
            return Outcome.CANCELLED;
        }
        if (job.cancelled()) {
            // An engine may wrap our unwinding exception; a cancelled job is not an engine failure.
            metrics.cancelled(job.cancelReason().tag());
            return new Outcome(null, null, null, true);
        }
        LOG.log(Level.ERROR, what + " failed", t);
        return Outcome.failed(t, true);
    }

    private static void closeQuietly(Session s) {
        try {
            s.close();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "closing a session failed", e);
        }
    }

    /** Unwinds the engine out of prompt processing when the job was cancelled there. */
    static final class JobCancelledException extends RuntimeException {
        JobCancelledException() {
            super("cancelled", null, false, false);
        }
    }

    /** Adds timing metrics and cancellation to the job's listener. */
    private final class TimingListener implements GenerationListener {
        private final InferenceJob job;
        private long lastTokenNanos;

        TimingListener(InferenceJob job) {
            this.job = job;
        }

        @Override
        public boolean onToken(GeneratedToken token) {
            long now = System.nanoTime();
            if (lastTokenNanos == 0) {
                metrics.timeToFirstToken(now - job.arrivalNanos);
            } else {
                metrics.interToken(now - lastTokenNanos);
            }
            lastTokenNanos = now;
            metrics.generatedToken();
            if (job.cancelled()) return false;
            return job.listener.onToken(token) && !job.cancelled();
        }

        @Override
        public void onPromptProgress(int done, int total) {
            if (job.cancelled()) throw new JobCancelledException();
            job.listener.onPromptProgress(done, total);
        }
    }

    /** Stops the slot threads once they are idle and closes their sessions; call after cancelAll. */
    @Override
    public void close() {
        try {
            stopSlots();
        } finally {
            if (spill != null) spill.close();
        }
    }

    private void stopSlots() {
        lock.lock();
        try {
            accepting = false;
            stopped = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        for (Thread t : threads) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
