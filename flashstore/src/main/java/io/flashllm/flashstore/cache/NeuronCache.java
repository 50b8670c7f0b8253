package io.flashllm.flashstore.cache;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;

/**
 * One layer's DRAM copy of FFN neurons, as the paper lays it out: a preallocated matrix of
 * {@code capacity} rows ({@link RowMatrix}), the neuron id of each row, and the count of used rows.
 * New neurons are appended; a neuron is evicted by copying the last used row into its slot; nothing
 * is ever reallocated. The FFN computes over rows {@code 0..used()} directly, in any order.
 *
 * <p>Rows {@code 0..hotCount()} are the hot region: pinned neurons that are never evicted.
 * Windowing: at the start of each token, neurons not used in any of the last {@code window}
 * tokens are evicted; or, with the window as a floor ({@link #keepPastWindow}), they stay while the
 * cache has room and are the first to give way when it is full. When new neurons need room and the
 * cache is full, it evicts neurons the current token does not use: with a half-life, the least active first, activity being how often
 * a neuron was requested, each request weighing half as much {@code halfLife} tokens later; a
 * replacing miss ({@link #claim}) less active than every candidate is not cached at all but
 * streamed, so one-off neurons do not push out ones that keep coming back. With half-life 0, the
 * least recently used go first and every miss is cached while a candidate is left. If room runs
 * out, {@link #reserve} or {@link #claim} says so and the caller streams the rest.
 *
 * <p>Not thread-safe: one thread (the one running the layer) mutates it; I/O threads only fill
 * rows reserved for them.
 */
public final class NeuronCache {
    private final RowMatrix rows;
    private final int[] idOfRow;
    private final int[] rowOfNeuron;
    private final long[] lastUsed;
    private final int[] activations;
    private final int window;
    /** Activity, in units of {@link #gain}: each request adds the current gain, which grows each token. */
    private final float[] activity;
    /** What a request adds now; grows by {@link #growth} per token, so older requests weigh less. */
    private float gain = 1f;
    /** 2^(1/halfLife), or 0 for least recently used. */
    private final float growth;
    private final LayerCounters counters;
    private int used;
    private int hot;
    private long step;
    /** The step at which the activation counts were last cleared. */
    private long countedSince;
    /** Set by {@link #keepPastWindow}: neurons past the window stay while there is room. */
    private boolean windowIsFloor;

    /** A cache that makes room least recently used first (half-life 0). */
    public NeuronCache(int neuronCount, int capacity, List<RowShape> shapes, int window, Arena arena, LayerCounters counters) {
        this(neuronCount, capacity, shapes, window, 0, arena, counters);
    }

    /** {@code halfLife}: tokens after which a request counts half in choosing what to evict (0: least recently used). */
    public NeuronCache(int neuronCount, int capacity, List<RowShape> shapes, int window, int halfLife, Arena arena,
                       LayerCounters counters) {
        if (window < 1) throw new IllegalArgumentException("window must be >= 1 token, got " + window);
        if (halfLife < 0) throw new IllegalArgumentException("halfLife must be >= 0 tokens, got " + halfLife);
        this.growth = halfLife == 0 ? 0f : (float) Math.pow(2, 1.0 / halfLife);
        this.activity = new float[neuronCount];
        if (capacity > neuronCount) capacity = neuronCount;
        this.rows = new RowMatrix(shapes, capacity, arena);
        this.idOfRow = new int[capacity];
        this.rowOfNeuron = new int[neuronCount];
        Arrays.fill(rowOfNeuron, -1);
        this.lastUsed = new long[neuronCount];
        Arrays.fill(lastUsed, Long.MIN_VALUE / 2);
        this.activations = new int[neuronCount];
        this.window = window;
        this.counters = counters;
    }

    public RowMatrix rows() {
        return rows;
    }

    public int capacity() {
        return rows.capacity();
    }

    public int used() {
        return used;
    }

    public int hotCount() {
        return hot;
    }

    public int window() {
        return window;
    }

    /**
     * Makes the window a floor: a neuron not used in the last {@code window} tokens is no longer
     * evicted at the start of a token but stays while the cache has room, and when room is needed
     * such neurons give way before any used inside the window (among them, least active or least
     * recently used first). For an FFN that skips a cached neuron the token does not need without
     * reading its row (gate-exact knows every gate value), keeping it costs nothing but memory the
     * budget already gave the cache, and a neuron that comes back after the window is a hit instead
     * of a read: replaying 800 recorded tokens of the capped run's model at its 1,834 rows per layer,
     * 76.1% hits with the window evicting, 80.5% with it as a floor; under a 1 GiB cap, where the cache
     * has room past the window, 97% against 83% (docs/benchmarks.md §4, session 27).
     */
    public void keepPastWindow(boolean on) {
        windowIsFloor = on;
    }

    public boolean keepsPastWindow() {
        return windowIsFloor;
    }

    public int neuronCount() {
        return rowOfNeuron.length;
    }

    public LayerCounters counters() {
        return counters;
    }

    /** Neuron id held by {@code row} (row < used). */
    public int idAt(int row) {
        return idOfRow[row];
    }

    /** Row holding {@code neuron}, or -1. */
    public int rowOf(int neuron) {
        return rowOfNeuron[neuron];
    }

    /** Tokens this layer has begun. */
    public long step() {
        return step;
    }

    /** Tokens whose activations {@link #activationCount} has counted (since {@link #forgetActivity}). */
    public long countedSteps() {
        return step - countedSince;
    }

    /**
     * Clears the activation counts and the activity (a warm-up's prompts say nothing about the
     * traffic to come) and releases the hot region: its neurons stay cached as ordinary rows,
     * evictable by the window, until a new hot region is chosen from the counts to come.
     */
    public void forgetActivity() {
        Arrays.fill(activations, 0);
        Arrays.fill(activity, 0f);
        hot = 0;
        countedSince = step;
    }

    /** How often each neuron has been requested; the hot-region choice reads it. */
    public int activationCount(int neuron) {
        return activations[neuron];
    }

    /**
     * Starts a token: evicts every non-hot neuron not used in any of the last {@code window} tokens
     * (none when the window is a floor: they stay until room is needed).
     * Scans from the end so the row moved into a freed slot has already been judged.
     */
    public void beginToken() {
        beginTokens(1);
    }

    /**
     * Starts {@code tokens} tokens handled as one (a prompt batch read once for all of them). The
     * window is applied as at the batch's first token, so a long batch does not push out the rows
     * it is about to use; then the clock and the activity's decay advance by the other tokens, so
     * the batch ages the cache and counts toward the hot region's warm-up as its tokens would, and
     * rows it did not use leave at the next token.
     */
    public void beginTokens(int tokens) {
        if (tokens < 1) throw new IllegalArgumentException("tokens must be >= 1, got " + tokens);
        step++;
        decay(1);
        if (!windowIsFloor) {
            long oldest = step - window;
            int evicted = 0;
            for (int r = used - 1; r >= hot; r--) {
                if (lastUsed[idOfRow[r]] < oldest) {
                    removeRow(r);
                    evicted++;
                }
            }
            if (evicted > 0) counters.evicted(evicted);
        }
        step += tokens - 1;
        decay(tokens - 1);
    }

    /** Advances the activity's clock by {@code tokens}: every earlier request now counts for less. */
    private void decay(int tokens) {
        if (growth == 0f) return;
        for (int t = 0; t < tokens; t++) {
            gain *= growth;
            if (gain > RESCALE_AT) {
                // Keep the floats finite: scale every activity and the gain down together (ratios unchanged).
                for (int i = 0; i < activity.length; i++) activity[i] *= 1f / RESCALE_AT;
                gain *= 1f / RESCALE_AT;
            }
        }
    }

    /** Looks a neuron up for the current token; a hit marks it used. Counts are added in bulk by the caller. */
    public boolean touch(int neuron) {
        return touch(neuron, 1);
    }

    /** As {@link #touch(int)} for a neuron that {@code requests} tokens of the current step use. */
    public boolean touch(int neuron, int requests) {
        activations[neuron] += requests;
        activity[neuron] += gain * requests;
        if (rowOfNeuron[neuron] >= 0) {
            lastUsed[neuron] = step;
            return true;
        }
        return false;
    }

    /** Whether eviction goes by activity (a half-life was given) rather than by last use. */
    public boolean byActivity() {
        return growth != 0f;
    }

    /** A neuron's activity relative to what one request adds now (about halfLife/ln 2 for one requested every token). */
    public float activity(int neuron) {
        return activity[neuron] / gain;
    }

    /** Gains stay below this before everything is scaled down by it. */
    private static final float RESCALE_AT = 1e30f;

    /**
     * Frees rows until {@code wanted} are free or nothing more may go, evicting the least active
     * (or least recently used) first and never a hot neuron or one the current token uses. Returns
     * the rows now free. Not for a token replacing in place ({@link #beginReplacing}): by activity it
     * reuses that token's victim heap.
     */
    public int makeRoom(int wanted) {
        int free = capacity() - used;
        if (free >= wanted) return free;
        if (growth != 0f) return makeRoomByActivity(wanted, free);
        int evicted = 0;
        // Rows older than the window are gone already, so ages here are 1..window: evict by age.
        for (long age = window; age >= 1 && free < wanted; age--) {
            long target = step - age;
            for (int r = used - 1; r >= hot && free < wanted; r--) {
                if (lastUsed[idOfRow[r]] <= target) {
                    removeRow(r);
                    free++;
                    evicted++;
                }
            }
        }
        if (evicted > 0) counters.evicted(evicted);
        return free;
    }

    /**
     * The {@code wanted - free} least active candidates, taken from the same heap as {@link #claim}'s
     * victims, are marked, then removed from the end so the row moved into a freed slot has already
     * been judged.
     */
    private int makeRoomByActivity(int wanted, int free) {
        beginReplacing();
        for (int r = hot; r < used; r++) offerVictim(r);
        int need = Math.min(wanted - free, heapSize);
        if (leaving.length == 0) leaving = new boolean[capacity()];
        for (int i = 0; i < need; i++) leaving[(int) heapPop()] = true;
        for (int r = used - 1; r >= hot; r--) {
            if (leaving[r]) {
                leaving[r] = false;
                removeRow(r);
            }
        }
        if (need > 0) counters.evicted(need);
        return free + need;
    }

    /** Rows {@link #makeRoomByActivity} is about to remove. */
    private boolean[] leaving = new boolean[0];

    /**
     * Appends a row for {@code neuron}, which the caller then fills before the next compute. Returns
     * the row, or -1 when the cache is full (call {@link #makeRoom} first).
     */
    public int reserve(int neuron) {
        if (rowOfNeuron[neuron] >= 0) throw new IllegalStateException("neuron " + neuron + " is already cached");
        if (used == capacity()) return -1;
        int r = used++;
        idOfRow[r] = neuron;
        rowOfNeuron[neuron] = r;
        lastUsed[neuron] = step;
        return r;
    }

    /** Drops a cached neuron (for instance one whose load failed). */
    public void evict(int neuron) {
        int r = rowOfNeuron[neuron];
        if (r < 0) return;
        if (r < hot) {
            // Keep the hot region a prefix: move the last hot row here first.
            int lastHot = hot - 1;
            swap(r, lastHot);
            hot--;
            r = lastHot;
        }
        removeRow(r);
    }

    /**
     * Moves cached neurons into the hot region (never evicted). Neurons not cached are skipped;
     * returns how many were pinned by this call.
     */
    public int pin(int[] neurons, int count) {
        int pinned = 0;
        for (int i = 0; i < count; i++) {
            int r = rowOfNeuron[neurons[i]];
            if (r < hot || r < 0) continue;
            swap(r, hot);
            hot++;
            pinned++;
        }
        return pinned;
    }

    /**
     * Makes the hot region exactly the cached neurons among {@code neurons[0..count)} and returns its size.
     * Neurons already hot and chosen again keep their rows; only a neuron that leaves the region and
     * one that joins it swap rows. Re-pinning from an empty region would move every chosen neuron,
     * copying thousands of rows each time the region is chosen again.
     */
    public int repin(int[] neurons, int count) {
        if (chosen == null) chosen = new int[rowOfNeuron.length];
        int mark = ++chosenMark;
        int k = 0;
        for (int i = 0; i < count; i++) {
            int n = neurons[i];
            if (rowOfNeuron[n] >= 0 && chosen[n] != mark) {
                chosen[n] = mark;
                k++;
            }
        }
        // As many unchosen neurons sit in rows [0, k) as chosen ones beyond: pair them off.
        int j = k;
        for (int r = 0; r < k; r++) {
            if (chosen[idOfRow[r]] == mark) continue;
            while (chosen[idOfRow[j]] != mark) j++;
            swap(r, j++);
        }
        hot = k;
        return k;
    }

    /** Per neuron, the {@link #repin} call that chose it last (compared with {@link #chosenMark}); made on first use. */
    private int[] chosen;
    private int chosenMark;

    /*
     * Replacing in place, for a token whose neurons are chosen one range at a time while earlier
     * ranges' reads are in flight (rows reserved for them must not move, so nothing is compacted
     * until the token is done): a row whose neuron lies in a range already chosen and that this
     * token does not use may be given to a new neuron of this token, the least recently used first.
     */
    private int[][] victims = new int[0][];
    private final int[] victimCount = new int[VICTIM_AGES];
    private final int[] victimNext = new int[VICTIM_AGES];
    /** By last use: ages 1..7 told apart, older ones share bucket 7 (least recently used beyond it is approximate). */
    private static final int VICTIM_AGES = 8;

    /** Starts a token's in-place replacement: no victims yet. */
    public void beginReplacing() {
        if (growth != 0f) {
            if (heap.length == 0) heap = new long[capacity()];
            heapSize = 0;
            return;
        }
        if (victims.length == 0) victims = new int[VICTIM_AGES][capacity()];
        Arrays.fill(victimCount, 0);
        Arrays.fill(victimNext, 0);
    }

    /** By activity: offered victims as (activity bits, row), a binary min-heap over {@code heap[0..heapSize)}. */
    private long[] heap = new long[0];
    private int heapSize;

    private void heapPush(long key) {
        LongMinHeap.push(heap, heapSize++, key);
    }

    private long heapPop() {
        return LongMinHeap.pop(heap, heapSize--);
    }

    /**
     * Offers as victims the rows holding neurons {@code [from, to)} that the current token has not
     * used (call after the token touched every neuron it needs in that range). Hot rows never go.
     */
    public void offerVictims(int from, int to) {
        for (int r = hot; r < used; r++) {
            int id = idOfRow[r];
            if (id >= from && id < to) offerVictim(r);
        }
    }

    /**
     * Row {@code r} (not hot) as a victim, unless the current token uses its neuron. With the window
     * as a floor, a row past the window gets the sign bit: its key is negative, so it leaves before
     * every row inside the window, and among them by activity as before.
     */
    private void offerVictim(int r) {
        int id = idOfRow[r];
        long age = step - lastUsed[id];
        if (age < 1) return;
        if (growth != 0f) {
            long key = ((long) Float.floatToRawIntBits(activity[id]) << 32) | r;
            heapPush(windowIsFloor && age > window ? key | Long.MIN_VALUE : key);
        } else {
            int bucket = (int) Math.min(age, VICTIM_AGES) - 1;
            victims[bucket][victimCount[bucket]++] = r;
        }
    }

    /**
     * A row for {@code neuron}, which the caller then fills: a free row when there is one, else the
     * row of the least active (or oldest) offered victim, whose neuron leaves the cache (no row
     * moves). Returns -1 when neither is left, or, by activity, when that victim is at least as
     * active as {@code neuron} (touched already this token): the caller streams it instead.
     */
    public int claim(int neuron) {
        if (rowOfNeuron[neuron] >= 0) throw new IllegalStateException("neuron " + neuron + " is already cached");
        if (used < capacity()) return reserve(neuron);
        if (growth != 0f) {
            // Activities are positive floats, whose bits order like ints: the heap's minimum is the least active.
            if (heapSize == 0 || (int) (heap[0] >>> 32 & 0x7fffffff) >= Float.floatToRawIntBits(activity[neuron])) return -1;
            return replace((int) heapPop(), neuron);
        }
        for (int b = VICTIM_AGES - 1; b >= 0; b--) {
            if (victimNext[b] == victimCount[b]) continue;
            return replace(victims[b][victimNext[b]++], neuron);
        }
        return -1;
    }

    /**
     * As {@link #claim}, but by activity the least active victim gives way whatever {@code neuron}'s
     * own activity: for a neuron read ahead on a guess, which has not been requested yet.
     */
    public int claimAny(int neuron) {
        if (rowOfNeuron[neuron] >= 0) throw new IllegalStateException("neuron " + neuron + " is already cached");
        if (used < capacity()) return reserve(neuron);
        if (growth != 0f) return heapSize == 0 ? -1 : replace((int) heapPop(), neuron);
        return claim(neuron);
    }

    private int replace(int r, int neuron) {
        rowOfNeuron[idOfRow[r]] = -1;
        idOfRow[r] = neuron;
        rowOfNeuron[neuron] = r;
        lastUsed[neuron] = step;
        counters.evicted(1);
        return r;
    }

    private void removeRow(int r) {
        int id = idOfRow[r];
        int last = used - 1;
        if (r != last) {
            rows.copyRow(last, r);
            int moved = idOfRow[last];
            idOfRow[r] = moved;
            rowOfNeuron[moved] = r;
        }
        rowOfNeuron[id] = -1;
        used--;
    }

    private void swap(int a, int b) {
        if (a == b) return;
        rows.swapRows(a, b);
        int ia = idOfRow[a];
        int ib = idOfRow[b];
        idOfRow[a] = ib;
        idOfRow[b] = ia;
        rowOfNeuron[ib] = a;
        rowOfNeuron[ia] = b;
    }
}
