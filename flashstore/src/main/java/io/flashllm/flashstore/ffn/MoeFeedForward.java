package io.flashllm.flashstore.ffn;

import io.flashllm.flashstore.io.PageAdvice;
import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.Ops;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.WeightTensor;

import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * A mixture-of-experts FFN (Mixtral, Qwen3-MoE): per layer a router matrix and {@code experts} gated
 * MLPs; each token runs only the few experts the router ranks highest, so a token streams a small share
 * of the layer's weights. The experts themselves are ordinary dense FFNs over the mapped weights.
 *
 * <p>A prompt batch is grouped by expert: every expert's rows are read once for all the tokens routed to
 * it, as a dense FFN reads its rows once per batch.
 *
 * <p>A model larger than DRAM pages its experts in as the router picks them; the experts a token (or a batch)
 * chose that are not in memory are requested from the file all at once ({@code MADV_WILLNEED}) before the
 * first of them runs, so they are read with many reads in flight instead of one page fault after another
 * (under a 3 GiB cap, a 7.5 GiB model decoded 3.2-3.6x faster: docs/benchmarks.md §10). Under a memory budget
 * the experts keep to their share of it without a cgroup ({@link ExpertResidency} keeps the most active):
 * read into DRAM slots of their own with direct reads where an {@link ExpertSlab} is given (a GGUF file; a token's
 * experts in their slots run while the others are read; a prompt batch, which uses nearly every expert, reads its next
 * layer's while its layer computes and gives up the slots it used last), else paged in as above and out with
 * {@code MADV_PAGEOUT}.
 *
 * <p>Not thread-safe: one scratch space for all layers; the model runs one pass at a time.
 */
public final class MoeFeedForward implements BatchedFeedForward {
    /** Under a budget, a batch requests this many of its experts ahead of the one that runs. */
    private static final int BATCH_READ_AHEAD = 8;
    /** Tokens whose experts are requested unprobed after a probe miss. */
    private static final int UNPROBED_TOKENS = 4;
    /**
     * A batch that picks at least this many experts per expert of a layer (each token its top-k) is a scan: it uses
     * nearly every expert of every layer (at 2, all but ~e^-2 = 14% of them with random picks; a 16-token gpt-oss
     * prompt picks 64 of 32 experts and uses ~88%; a 64-token one ~100%), so recency says nothing about what it
     * needs next, and its next layer's experts are worth reading before its router speaks.
     */
    private static final int SCAN_PICKS_PER_EXPERT = 2;
    private final ExpertRouting routing;
    private final List<WeightTensor> routers;
    /** The routers' biases (gpt-oss), one per layer; empty when they have none. */
    private final List<WeightTensor> routerBiases;
    /** Layer l's expert e at index {@code l * experts + e}. */
    private final DenseFeedForward experts;
    private final PageAdvice.Probe probe = new PageAdvice.Probe();
    /** The experts kept in DRAM under a budget; null without one. */
    private final ExpertResidency residency;
    /** Under a budget, the DRAM the experts are read into with direct reads; null: through the page cache. */
    private final ExpertSlab slab;
    /** Which experts a batch uses. */
    private final boolean[] asked;
    /** Experts still to be requested whatever the probe says, after a probe found one out of memory. */
    private int requestUnprobed;
    // Per layer, for metrics (read from other threads at scrape time): experts a pass used, experts whose
    // first page was out of memory when needed, experts paged out under the budget.
    private final LongAdder[] lookups;
    private final LongAdder[] misses;
    private final LongAdder[] pageOuts;
    /** Per layer: experts read ahead, while the layer before computed (a scan's; counted in misses too). */
    private final LongAdder[] readAhead;
    /** The pass under way is a batch's scan of the layers ({@link #SCAN_PICKS_PER_EXPERT}). */
    private boolean scan;
    private final Parallel parallel;
    private final int dim;
    private final float[] scores;
    private final int[] chosen;
    private final float[] weights;
    private final float[] expertOut;
    /** With a slab: each chosen expert's output, and whether it was in its slot when chosen. */
    private final float[][] tokenOut;
    private final boolean[] held;
    // Batch scratch, grown on demand: the router's scores and choices per row, and one expert's rows.
    private float[] batchScores = new float[0];
    private int[] batchChosen = new int[0];
    private float[] batchWeights = new float[0];
    private float[] gathered = new float[0];
    private float[] gatheredOut = new float[0];
    private int[] gatheredRow = new int[0];
    private float[] gatheredWeight = new float[0];
    /** Per expert, its first slot (and one past the last at index experts); a fill cursor; the experts a batch uses. */
    private final int[] slotStart;
    private final int[] slotFill;
    private final int[] askedList;

    /**
     * @param routers one matrix per layer, {@code experts} rows of dim
     * @param experts every layer's experts, layer-major: layer l's expert e at index {@code l * experts + e}
     */
    public MoeFeedForward(ExpertRouting routing, List<WeightTensor> routers, DenseFeedForward experts, Parallel parallel) {
        this(routing, routers, List.of(), experts, 0, parallel);
    }

    /**
     * With {@code expertBudget} above 0 the experts keep to that many bytes of DRAM: the least active ones
     * are paged out ({@code MADV_PAGEOUT}) as others come in ({@link ExpertResidency}). {@code routerBiases}: one
     * per layer, added to the router's scores (gpt-oss), or empty.
     */
    public MoeFeedForward(ExpertRouting routing, List<WeightTensor> routers, List<WeightTensor> routerBiases,
                          DenseFeedForward experts, long expertBudget, Parallel parallel) {
        this(routing, routers, routerBiases, experts, expertBudget, null, parallel);
    }

    /**
     * With a {@code slab}, the experts under the budget are read into it with direct reads (the budget is its
     * slots) instead of paged in and out of the mapped file.
     */
    public MoeFeedForward(ExpertRouting routing, List<WeightTensor> routers, List<WeightTensor> routerBiases,
                          DenseFeedForward experts, long expertBudget, ExpertSlab slab, Parallel parallel) {
        if (!routing.moe()) throw new IllegalArgumentException("a mixture of experts needs experts");
        this.routing = routing;
        this.routers = List.copyOf(routers);
        this.routerBiases = List.copyOf(routerBiases);
        if (!this.routerBiases.isEmpty() && this.routerBiases.size() != this.routers.size()) {
            throw new IllegalArgumentException(this.routerBiases.size() + " router biases for " + this.routers.size()
                    + " routers");
        }
        for (WeightTensor b : this.routerBiases) {
            if (b.elements() != routing.experts()) {
                throw new IllegalArgumentException("router bias " + b.name() + " has " + b.elements()
                        + " elements, expected " + routing.experts());
            }
        }
        this.experts = experts;
        this.parallel = parallel;
        if (this.routers.isEmpty()) throw new IllegalArgumentException("no router matrices");
        this.dim = this.routers.get(0).cols();
        for (WeightTensor r : this.routers) {
            if (r.rows() != routing.experts() || r.cols() != dim) {
                throw new IllegalArgumentException("router " + r.name() + " has " + r.rows() + " rows of " + r.cols()
                        + ", expected " + routing.experts() + " of " + dim);
            }
        }
        this.scores = new float[routing.experts()];
        this.slotStart = new int[routing.experts() + 1];
        this.slotFill = new int[routing.experts()];
        this.askedList = new int[routing.experts()];
        this.asked = new boolean[routing.experts()];
        this.lookups = adders(this.routers.size());
        this.misses = adders(this.routers.size());
        this.pageOuts = adders(this.routers.size());
        this.readAhead = adders(this.routers.size());
        this.slab = slab;
        if (slab != null) {
            // A slot per expert kept: the residency counts slots.
            long[] bytes = new long[this.routers.size() * routing.experts()];
            java.util.Arrays.fill(bytes, slab.slotBytes());
            this.residency = new ExpertResidency(slab.slots() * slab.slotBytes(), bytes, this.routers.size());
        } else if (expertBudget > 0) {
            long[] bytes = new long[this.routers.size() * routing.experts()];
            for (int g = 0; g < bytes.length; g++) bytes[g] = bytes(experts.layer(g));
            this.residency = new ExpertResidency(expertBudget, bytes, this.routers.size());
        } else {
            this.residency = null;
        }
        this.chosen = new int[routing.used()];
        this.weights = new float[routing.used()];
        this.expertOut = new float[dim];
        this.tokenOut = new float[slab == null ? 0 : routing.used()][dim];
        this.held = new boolean[routing.used()];
    }

    public ExpertRouting routing() {
        return routing;
    }

    @Override
    public void forward(int layer, float[] x, float[] out) {
        if (slab != null) slab.await(); // a batch's read-ahead, if one is still in flight
        scan = false;
        MatVec.matvec(parallel, routers.get(layer), x, scores);
        if (!routerBiases.isEmpty()) Ops.addBias(scores, 0, routerBiases.get(layer));
        route(scores, 0, chosen, weights, 0);
        lookups[layer].add(routing.used());
        if (residency != null) {
            residency.startPass();
            for (int k = 0; k < routing.used(); k++) residency.use(layer * routing.experts() + chosen[k]);
            pageOutOverBudget();
        }
        if (slab != null) {
            forwardReading(layer, x, out);
            return;
        }
        for (int k = 0; k < routing.used(); k++) willNeed(layer, chosen[k]);
        java.util.Arrays.fill(out, 0, dim, 0f);
        for (int k = 0; k < routing.used(); k++) {
            experts.forward(layer * routing.experts() + chosen[k], x, expertOut);
            addScaled(out, 0, expertOut, 0, weights[k]);
        }
    }

    @Override
    public void forwardBatch(int layer, float[] x, int batch, float[] out) {
        if (batch == 1) {
            forward(layer, x, out);
            return;
        }
        int e = routing.experts();
        int k = routing.used();
        // The experts read ahead for this layer (below) arrive first: they are in their slots from here on.
        if (slab != null) slab.await();
        // Through the page cache each expert of a batch is a pass of its own, and the kernel reads and keeps pages as
        // it likes: the scan's policy is the slab's (measured there; docs/decisions/0006, session 41).
        scan = slab != null && batch * k >= SCAN_PICKS_PER_EXPERT * e;
        grow(batch);
        MatVec.matmul(parallel, routers.get(layer), x, batch, batchScores);
        if (!routerBiases.isEmpty()) {
            for (int b = 0; b < batch; b++) Ops.addBias(batchScores, b * e, routerBiases.get(layer));
        }
        for (int b = 0; b < batch; b++) route(batchScores, b * e, batchChosen, batchWeights, b * k);
        // Which experts the batch uses. Without a budget they are all requested at once; with one, each is
        // counted in as it runs (those that ran before it may be paged out) and requested a few ahead.
        java.util.Arrays.fill(asked, false);
        for (int i = 0; i < batch * k; i++) asked[batchChosen[i]] = true;
        for (int expert = 0; expert < e; expert++) {
            if (asked[expert]) lookups[layer].increment();
        }
        int requested = residency == null ? e : 0;
        if (residency == null) {
            for (int expert = 0; expert < e; expert++) {
                if (asked[expert]) willNeed(layer, expert);
            }
        }
        java.util.Arrays.fill(out, 0, batch * dim, 0f);
        // With a slab, all of the batch's experts are read at once where the slab holds them together.
        boolean allIn = slab != null && readAllIn(layer);
        // A scan's next layer is read while this one computes: its router has not spoken, but it will ask for nearly all.
        if (allIn && scan) readAheadOf(layer + 1);
        if ((residency == null || allIn) && parallel != null && parallel.threads() > 1 && EXPERTS_IN_PARALLEL) {
            expertsInParallel(layer, x, batch, out);
            return;
        }
        for (int expert = 0; expert < e; expert++) {
            if (!asked[expert]) continue;
            if (allIn) {
                // read above
            } else if (slab != null) {
                if (!slab.holds(layer * e + expert)) readRoundIn(layer, expert);
            } else if (residency != null) {
                residency.startPass();
                residency.use(layer * e + expert);
                pageOutOverBudget();
                for (int ahead = 0; requested < e && (requested <= expert || ahead < BATCH_READ_AHEAD); requested++) {
                    if (!asked[requested]) continue;
                    willNeed(layer, requested);
                    if (requested > expert) ahead++;
                }
            }
            int n = 0;
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < k; j++) {
                    if (batchChosen[b * k + j] != expert) continue;
                    System.arraycopy(x, b * dim, gathered, n * dim, dim);
                    gatheredRow[n] = b;
                    gatheredWeight[n++] = batchWeights[b * k + j];
                }
            }
            if (n == 0) continue;
            experts.forwardBatch(layer * e + expert, gathered, n, gatheredOut);
            for (int r = 0; r < n; r++) addScaled(out, gatheredRow[r] * dim, gatheredOut, r * dim, gatheredWeight[r]);
        }
    }

    /**
     * A batch's experts spread over the pool's threads, each expert's products on one thread (a mixture's experts
     * get a few tokens each, and products that small lose to the hand-off between threads what they gain), into
     * an output slot per token and expert, summed into {@code out} afterwards in the order the one-thread loop
     * adds them: the same arithmetic in the same order. Without a DRAM budget only (that one pages experts in and
     * out in the order it runs them).
     */
    private void expertsInParallel(int layer, float[] x, int batch, float[] out) {
        int e = routing.experts();
        int k = routing.used();
        // Slots in expert order, each expert's tokens in batch order: the order of the sums below.
        int[] start = slotStart;
        java.util.Arrays.fill(start, 0);
        for (int i = 0; i < batch * k; i++) start[batchChosen[i] + 1]++;
        for (int expert = 0; expert < e; expert++) start[expert + 1] += start[expert];
        int[] fill = slotFill;
        System.arraycopy(start, 0, fill, 0, e);
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < k; j++) {
                int slot = fill[batchChosen[b * k + j]]++;
                gatheredRow[slot] = b;
                gatheredWeight[slot] = batchWeights[b * k + j];
            }
        }
        int used = 0;
        for (int expert = 0; expert < e; expert++) {
            if (start[expert + 1] > start[expert]) askedList[used++] = expert;
        }
        parallel.forRange(used, (from, to) -> {
            float[][] scratch = EXPERT_SCRATCH.get();
            for (int i = from; i < to; i++) {
                int expert = askedList[i];
                int s0 = start[expert];
                int n = start[expert + 1] - s0;
                if (scratch[0].length < n * dim) {
                    scratch[0] = new float[n * dim];
                    scratch[1] = new float[n * dim];
                }
                for (int s = 0; s < n; s++) System.arraycopy(x, gatheredRow[s0 + s] * dim, scratch[0], s * dim, dim);
                experts.forwardRows(layer * e + expert, scratch[0], n, scratch[1]);
                System.arraycopy(scratch[1], 0, gatheredOut, s0 * dim, n * dim);
            }
        });
        for (int slot = 0; slot < batch * k; slot++) {
            addScaled(out, gatheredRow[slot] * dim, gatheredOut, slot * dim, gatheredWeight[slot]);
        }
    }

    /** Experts of a batch run on several threads at once ({@link #expertsInParallel}); false: one after another. */
    static final boolean EXPERTS_IN_PARALLEL = Boolean.parseBoolean(System.getProperty("flashllm.moe.expertsInParallel", "true"));
    /** Each thread's copy of an expert's tokens and its output. */
    private static final ThreadLocal<float[][]> EXPERT_SCRATCH = ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0]});

    /**
     * Asks the kernel to read expert {@code e} of {@code layer} in if it seems not in memory; returns at once.
     * A request costs one {@code mincore} of the gate's first page while the experts fit in memory (an expert's
     * three matrices are read together, so they leave memory together). Once a probe misses, the model is
     * evidently paging and an expert that kept its first page may have lost the rest: for the next few tokens'
     * experts every matrix is requested, whole, whatever the probe says.
     */
    private void willNeed(int layer, int e) {
        DenseFfnLayer l = experts.layer(layer * routing.experts() + e);
        WeightTensor first = l.gate() != null ? l.gate() : l.up();
        if (!probe.firstPageResident(first.data())) {
            misses[layer].increment();
            requestUnprobed = routing.used() * routers.size() * UNPROBED_TOKENS;
        } else if (requestUnprobed > 0) {
            requestUnprobed--;
        } else {
            return;
        }
        if (l.gate() != null) PageAdvice.willNeed(l.gate().data());
        PageAdvice.willNeed(l.up().data());
        PageAdvice.willNeed(l.down().data());
    }

    /**
     * One token through the slab: the chosen experts it lacks are read while those it holds run, then the rest run;
     * each expert's output is kept and they are summed in the router's order, as the plain loop sums them.
     */
    private void forwardReading(int layer, float[] x, float[] out) {
        int used = routing.used();
        boolean reading = false;
        for (int k = 0; k < used; k++) {
            int g = layer * routing.experts() + chosen[k];
            held[k] = slab.holds(g);
            if (!held[k]) {
                readIn(layer, chosen[k]);
                reading = true;
            }
        }
        if (reading) slab.submit();
        for (int k = 0; k < used; k++) {
            if (held[k]) experts.forward(layer * routing.experts() + chosen[k], x, tokenOut[k]);
        }
        if (reading) {
            slab.await();
            for (int k = 0; k < used; k++) {
                if (!held[k]) experts.forward(layer * routing.experts() + chosen[k], x, tokenOut[k]);
            }
        }
        java.util.Arrays.fill(out, 0, dim, 0f);
        for (int k = 0; k < used; k++) addScaled(out, 0, tokenOut[k], 0, weights[k]);
    }

    /**
     * Reads every expert the batch asks for into the slab in one round, when the slab takes that many at once; false
     * (nothing read) when it does not, and they are read one after another as they run.
     */
    private boolean readAllIn(int layer) {
        int e = routing.experts();
        int n = 0;
        int first = -1;
        for (int expert = e - 1; expert >= 0; expert--) {
            if (!asked[expert]) continue;
            n++;
            first = expert;
        }
        if (n > slab.maxPass() || first < 0) return false;
        readRoundIn(layer, first);
        return true;
    }

    /**
     * Reads expert {@code first} and the batch's next experts out of the slab, as many as one round takes, together;
     * the experts after them are read when their turn comes.
     */
    private void readRoundIn(int layer, int first) {
        int e = routing.experts();
        residency.startPass();
        int n = 0;
        int last = first;
        for (int expert = first; expert < e; expert++) {
            if (!asked[expert]) continue;
            boolean miss = !slab.holds(layer * e + expert);
            if (miss && n == slab.maxPass()) break;
            residency.use(layer * e + expert);
            if (miss) n++;
            last = expert;
        }
        pageOutOverBudget();
        for (int expert = first; expert <= last; expert++) {
            if (asked[expert]) readIn(layer, expert);
        }
        slab.load();
    }

    /**
     * Starts reading the experts of {@code layer} that are not in their slots, as many as one round takes and the slots
     * hold beside the current pass's, and returns at once; the layer's call waits for them. Its experts already in
     * slots are counted in the current pass too, so that the reads cannot take their slots.
     */
    private void readAheadOf(int layer) {
        if (layer >= routers.size()) return;
        int e = routing.experts();
        int n = 0;
        for (int expert = 0; expert < e; expert++) {
            int g = layer * e + expert;
            if (slab.holds(g)) {
                residency.use(g);
                continue;
            }
            if (n == slab.maxPass() || residency.passUsed() >= slab.slots()) continue;
            residency.use(g);
            pageOutOverBudget();
            readAhead[layer].increment();
            readIn(layer, expert);
            n++;
        }
        slab.submit();
    }

    /** Queues expert {@code e} of {@code layer} to be read into the slab, unless it is there. */
    private void readIn(int layer, int e) {
        int g = layer * routing.experts() + e;
        if (slab.holds(g)) return;
        misses[layer].increment();
        slab.request(g);
    }

    /**
     * Pages out experts until the budget holds (or only this pass's are left): the least active, or in a scan the most
     * recently used ({@link ExpertResidency#nextToPageOut(boolean)}).
     */
    private void pageOutOverBudget() {
        for (int g = residency.nextToPageOut(scan); g >= 0; g = residency.nextToPageOut(scan)) {
            pageOuts[g / routing.experts()].increment();
            if (slab != null) {
                slab.release(g);
                continue;
            }
            DenseFfnLayer l = experts.layer(g);
            if (l.gate() != null) PageAdvice.pageOut(l.gate().data());
            PageAdvice.pageOut(l.up().data());
            PageAdvice.pageOut(l.down().data());
        }
    }

    /** An expert's bytes: its gate, up and down matrices. */
    public static long bytes(DenseFfnLayer l) {
        return (l.gate() == null ? 0 : l.gate().data().byteSize()) + l.up().data().byteSize() + l.down().data().byteSize();
    }

    /** The experts kept in DRAM under a budget, or null without one. */
    public ExpertResidency residency() {
        return residency;
    }

    /** The slots the experts are read into under a budget, or null when they are paged through the page cache. */
    public ExpertSlab slab() {
        return slab;
    }

    @Override
    public void close() {
        if (slab != null) slab.close();
    }

    public int layers() {
        return routers.size();
    }

    /** Experts the passes of {@code layer} used (a batch counts each of its experts once), since load. */
    public long lookups(int layer) {
        return lookups[layer].sum();
    }

    /** Experts of {@code layer} whose first page was out of memory when needed (read from the file then). */
    public long misses(int layer) {
        return misses[layer].sum();
    }

    /** Experts of {@code layer} paged out to keep to the budget. */
    public long pageOuts(int layer) {
        return pageOuts[layer].sum();
    }

    /** Experts of {@code layer} read ahead of its router, while a prompt batch ran the layer before (in misses too). */
    public long readAhead(int layer) {
        return readAhead[layer].sum();
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) a[i] = new LongAdder();
        return a;
    }

    /**
     * The router's choice for one token: softmax of {@code scores[off..off+experts)} (in place), the
     * {@code used} most probable experts into {@code chosen[to..]} (ties to the lower index), their
     * probabilities, normalized when the model does, into {@code w[to..]}.
     */
    void route(float[] scores, int off, int[] chosen, float[] w, int to) {
        int e = routing.experts();
        Ops.softmax(scores, off, e);
        float sum = 0f;
        for (int j = 0; j < routing.used(); j++) {
            int best = -1;
            for (int i = 0; i < e; i++) {
                if (taken(chosen, to, j, i)) continue;
                if (best < 0 || scores[off + i] > scores[off + best]) best = i;
            }
            chosen[to + j] = best;
            w[to + j] = scores[off + best];
            sum += w[to + j];
        }
        if (routing.normalize()) {
            for (int j = 0; j < routing.used(); j++) w[to + j] /= sum;
        }
    }

    private static boolean taken(int[] chosen, int to, int count, int expert) {
        for (int j = 0; j < count; j++) {
            if (chosen[to + j] == expert) return true;
        }
        return false;
    }

    private void addScaled(float[] out, int outOff, float[] y, int yOff, float w) {
        for (int i = 0; i < dim; i++) out[outOff + i] += w * y[yOff + i];
    }

    private void grow(int batch) {
        int e = routing.experts();
        int k = routing.used();
        if (batchScores.length >= batch * e) return;
        batchScores = new float[batch * e];
        batchChosen = new int[batch * k];
        batchWeights = new float[batch * k];
        // An expert may take every row (each row picks an expert at most once); the experts run at once keep an
        // output slot per row and expert it picks.
        gathered = new float[batch * dim];
        gatheredOut = new float[batch * k * dim];
        gatheredRow = new int[batch * k];
        gatheredWeight = new float[batch * k];
    }
}
