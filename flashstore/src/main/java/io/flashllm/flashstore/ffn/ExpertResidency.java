package io.flashllm.flashstore.ffn;

/**
 * Which experts of a mixture of experts are kept in DRAM under a byte budget: the most active ones, as a neuron cache
 * keeps its most active neurons. Every expert a pass uses is counted in; when the counted bytes pass the budget, the
 * least active experts are chosen to be paged out (activity: how often an expert was used, each use counting half as
 * much {@link #HALF_LIFE_TOKENS} tokens later; among equals the least recently used), never one the current pass uses.
 * The kernel may drop pages on its own as well; the count then errs high, which only pages out sooner.
 *
 * <p>Why activity and not recency: a token uses its experts layer after layer, a cycle. When the budget cannot hold a
 * token's experts of all layers, least-recently-used gives up exactly the expert the cycle needs next and reads
 * every expert every token; activity keeps the experts the routers favour (Qwen3-30B-A3B's shape at a 2 GiB budget:
 * 53% of the experts read against 100%; docs/benchmarks.md §10, session 42).
 *
 * <p>Experts are numbered globally ({@code layer * experts + e}). Not thread-safe: the model runs one pass
 * at a time.
 */
public final class ExpertResidency {
    /** Tokens after which a use counts half as much (as the neuron cache's activity). */
    public static final int HALF_LIFE_TOKENS = 16;
    /** Gains stay below this before every activity is scaled down by it. */
    private static final double RESCALE_AT = 1e300;
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
     * Per expert: the sum of what each of its uses added (kept while it is paged out). As the neuron cache does, older
     * uses weigh less because newer ones add more: {@link #gain} grows by {@link #growth} a pass, so a use adds twice
     * what one {@link #HALF_LIFE_TOKENS} tokens earlier did, and no activity is decayed one by one.
     */
    private final double[] activity;
    /** 2^(1 / passes in a half-life): a pass per layer with experts makes a token. */
    private final double growth;
    /** What a use adds now. */
    private double gain = 1;

    /**
     * @param budget         bytes the experts may take together
     * @param expertBytes    each expert's bytes (its gate, up and down matrices)
     * @param passesPerToken passes a decoded token makes (one per layer with experts)
     */
    public ExpertResidency(long budget, long[] expertBytes, int passesPerToken) {
        if (budget <= 0) throw new IllegalArgumentException("expert budget must be positive, got " + budget);
        if (passesPerToken <= 0) {
            throw new IllegalArgumentException("passes per token must be positive, got " + passesPerToken);
        }
        this.budget = budget;
        this.bytes = expertBytes.clone();
        this.lastUse = new long[expertBytes.length];
        this.growth = Math.pow(2, 1.0 / ((double) HALF_LIFE_TOKENS * passesPerToken));
        this.activity = new double[expertBytes.length];
    }

    /** Starts a pass (one layer of a token, or of a batch): the experts it uses are not paged out during it. */
    public void startPass() {
        pass++;
        passUsed = 0;
        gain *= growth;
        if (gain > RESCALE_AT) {
            for (int g = 0; g < activity.length; g++) activity[g] /= gain;
            gain = 1;
        }
    }

    /** Counts expert {@code g} in as used by this pass; true when it was not counted in (it may need reading). */
    public boolean use(int g) {
        boolean fresh = lastUse[g] == 0;
        if (fresh) counted += bytes[g];
        if (lastUse[g] != pass) {
            passUsed++;
            activity[g] += gain;
        }
        lastUse[g] = pass;
        return fresh;
    }

    /** Experts the current pass uses (none of them is paged out during it). */
    public int passUsed() {
        return passUsed;
    }

    /**
     * The next expert to page out so that the counted bytes fit the budget (the least active one not used by this
     * pass), counted out; -1 when they fit or only this pass's experts are left.
     */
    public int nextToPageOut() {
        return nextToPageOut(false);
    }

    /**
     * As {@link #nextToPageOut()}, but with {@code scan} the most recently used expert goes first, whatever its
     * activity. A prompt batch uses nearly every expert of every layer, layer after layer: a scan larger than the
     * budget, in which the least recently used expert is the one the next batch needs soonest, so least-recently-used
     * reads every expert again each batch. The expert just used (by the layer before) is needed last: most recently
     * used first keeps the rest in place, and a batch reads only what the budget cannot hold.
     */
    public int nextToPageOut(boolean scan) {
        if (counted <= budget) return -1;
        int victim = -1;
        for (int g = 0; g < lastUse.length; g++) {
            long u = lastUse[g];
            if (u == 0 || u == pass) continue;
            if (victim < 0 || (scan ? u > lastUse[victim] : lessActive(g, victim))) victim = g;
        }
        if (victim < 0) return -1;
        lastUse[victim] = 0;
        counted -= bytes[victim];
        pagedOut++;
        return victim;
    }

    private boolean lessActive(int g, int than) {
        if (activity[g] != activity[than]) return activity[g] < activity[than];
        return lastUse[g] < lastUse[than];
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
