package io.flashllm.flashstore.ffn;

/**
 * Which experts of a memory-mapped mixture of experts are kept in DRAM under a byte budget: the experts
 * used most recently, as a neuron cache keeps the recently active neurons. Every expert a pass uses is
 * counted in; when the counted bytes pass the budget, the least recently used experts are chosen to be paged
 * out, never one the current pass uses. The kernel may drop pages on its own as well; the count then errs
 * high, which only pages out sooner.
 *
 * <p>Experts are numbered globally ({@code layer * experts + e}). Not thread-safe: the model runs one pass
 * at a time.
 */
public final class ExpertResidency {
    private final long budget;
    private final long[] bytes;
    /** The pass that last used each expert; 0 = not counted in. */
    private final long[] lastUse;
    private long counted;
    private long pass;
    /** Experts the current pass uses. */
    private int passUsed;
    private long pagedOut;

    /**
     * @param budget      bytes the experts may take together
     * @param expertBytes each expert's bytes (its gate, up and down matrices)
     */
    public ExpertResidency(long budget, long[] expertBytes) {
        if (budget <= 0) throw new IllegalArgumentException("expert budget must be positive, got " + budget);
        this.budget = budget;
        this.bytes = expertBytes.clone();
        this.lastUse = new long[expertBytes.length];
    }

    /** Starts a pass (one layer of a token, or of a batch): the experts it uses are not paged out during it. */
    public void startPass() {
        pass++;
        passUsed = 0;
    }

    /** Counts expert {@code g} in as used by this pass; true when it was not counted in (it may need reading). */
    public boolean use(int g) {
        boolean fresh = lastUse[g] == 0;
        if (fresh) counted += bytes[g];
        if (lastUse[g] != pass) passUsed++;
        lastUse[g] = pass;
        return fresh;
    }

    /** Experts the current pass uses (none of them is paged out during it). */
    public int passUsed() {
        return passUsed;
    }

    /**
     * The next expert to page out so that the counted bytes fit the budget (the least recently used one not
     * used by this pass), counted out; -1 when they fit or only this pass's experts are left.
     */
    public int nextToPageOut() {
        return nextToPageOut(false);
    }

    /**
     * As {@link #nextToPageOut()}, but with {@code scan} the most recently used expert goes first. A prompt batch uses
     * nearly every expert of every layer, layer after layer: a scan larger than the budget, in which the least
     * recently used expert is the one the next batch needs soonest, so least-recently-used reads every expert again
     * each batch. The expert just used (by the layer before) is needed last: most recently used first keeps the rest
     * in place, and a batch reads only what the budget cannot hold.
     */
    public int nextToPageOut(boolean scan) {
        if (counted <= budget) return -1;
        int victim = -1;
        for (int g = 0; g < lastUse.length; g++) {
            long u = lastUse[g];
            if (u == 0 || u == pass) continue;
            if (victim < 0 || (scan ? u > lastUse[victim] : u < lastUse[victim])) victim = g;
        }
        if (victim < 0) return -1;
        lastUse[victim] = 0;
        counted -= bytes[victim];
        pagedOut++;
        return victim;
    }

    public long budget() {
        return budget;
    }

    /** Bytes of the experts counted in now. */
    public long countedBytes() {
        return counted;
    }

    /** Experts paged out so far. */
    public long pagedOut() {
        return pagedOut;
    }
}
