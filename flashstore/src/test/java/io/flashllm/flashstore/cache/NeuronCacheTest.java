package io.flashllm.flashstore.cache;

import io.flashllm.kernels.GgmlType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class NeuronCacheTest {
    private static final List<RowShape> SHAPES = List.of(new RowShape("up", GgmlType.F32, 8), new RowShape("down", GgmlType.F16, 16));

    /** Fills a freshly reserved row with bytes derived from the neuron id, so moved rows can be checked. */
    private static void fill(NeuronCache c, int row, int neuron) {
        for (int p = 0; p < 2; p++) {
            var seg = c.rows().row(p, row);
            for (long i = 0; i < seg.byteSize(); i++) seg.set(ValueLayout.JAVA_BYTE, i, (byte) (neuron * 31 + p * 7 + i));
        }
    }

    private static void checkInvariants(NeuronCache c, Set<Integer> model) {
        assertEquals(model.size(), c.used());
        assertTrue(c.used() <= c.capacity());
        Set<Integer> seen = new HashSet<>();
        for (int r = 0; r < c.used(); r++) {
            int id = c.idAt(r);
            assertTrue(seen.add(id), "no duplicates");
            assertEquals(r, c.rowOf(id), "index agrees");
            assertTrue(model.contains(id));
            for (int p = 0; p < 2; p++) {
                var seg = c.rows().row(p, r);
                for (long i = 0; i < seg.byteSize(); i++) {
                    assertEquals((byte) (id * 31 + p * 7 + i), seg.get(ValueLayout.JAVA_BYTE, i), "row " + r + " holds neuron " + id + "'s bytes");
                }
            }
        }
        for (int n = 0; n < c.neuronCount(); n++) if (!model.contains(n)) assertEquals(-1, c.rowOf(n));
    }

    /**
     * Random tokens against a simple model: a map neuron → last token used. The cache must hold
     * exactly the window's neurons (when they fit), keep row bytes with their neuron through
     * evictions, keep hot neurons, and never reallocate (segment addresses stay).
     */
    @Test
    void randomWorkloadAgainstModel() {
        Random rnd = new Random(1);
        int neurons = 300;
        int window = 3;
        try (Arena arena = Arena.ofConfined()) {
            LayerCounters counters = new LayerCounters();
            NeuronCache c = new NeuronCache(neurons, 120, SHAPES, window, arena, counters);
            long address = c.rows().part(0).data().address();
            Map<Integer, Long> lastUsed = new HashMap<>();
            Set<Integer> hot = new HashSet<>();
            for (int t = 1; t <= 400; t++) {
                c.beginToken();
                final long step = t;
                lastUsed.entrySet().removeIf(e -> !hot.contains(e.getKey()) && e.getValue() < step - window);
                checkInvariants(c, lastUsed.keySet());
                Set<Integer> want = new HashSet<>();
                int k = rnd.nextInt(40);
                for (int i = 0; i < k; i++) want.add(rnd.nextInt(rnd.nextBoolean() ? 60 : neurons));
                List<Integer> misses = new ArrayList<>();
                for (int n : want) {
                    boolean hit = c.touch(n);
                    assertEquals(lastUsed.containsKey(n), hit, "hit iff the model holds it");
                    if (hit) lastUsed.put(n, step);
                    else misses.add(n);
                }
                int free = c.makeRoom(misses.size());
                // model eviction: oldest first, never hot, never used this token
                int modelFree = 120 - lastUsed.size();
                if (modelFree < misses.size()) {
                    List<Map.Entry<Integer, Long>> cand = new ArrayList<>(lastUsed.entrySet().stream()
                            .filter(e -> !hot.contains(e.getKey()) && e.getValue() < step).toList());
                    cand.sort(Map.Entry.comparingByValue());
                    int need = misses.size() - modelFree;
                    // ties within one age may go either way; compare by age counts only
                    long cutoff = need <= cand.size() ? cand.get(Math.min(need, cand.size()) - 1).getValue() : Long.MAX_VALUE;
                    int evictedStrictlyOlder = (int) cand.stream().filter(e -> e.getValue() < cutoff).count();
                    for (int i = 0; i < Math.min(need, cand.size()); i++) lastUsed.remove(cand.get(i).getKey());
                    // re-sync the model with which same-age neurons the cache chose
                    for (var e : new ArrayList<>(lastUsed.entrySet())) {
                        if (c.rowOf(e.getKey()) < 0 && e.getValue() == cutoff) lastUsed.remove(e.getKey());
                    }
                    for (int r = 0; r < c.used(); r++) {
                        int id = c.idAt(r);
                        if (!lastUsed.containsKey(id)) lastUsed.put(id, cutoff);
                    }
                    assertTrue(evictedStrictlyOlder <= need);
                }
                assertEquals(120 - lastUsed.size(), free);
                for (int i = 0; i < Math.min(free, misses.size()); i++) {
                    int n = misses.get(i);
                    int row = c.reserve(n);
                    assertTrue(row >= 0);
                    fill(c, row, n);
                    lastUsed.put(n, step);
                }
                for (int i = free; i < misses.size(); i++) assertEquals(-1, c.reserve(misses.get(i)), "full cache refuses");
                if (t == 100) {
                    int[] pins = c.used() > 5 ? new int[] {c.idAt(0), c.idAt(c.used() - 1), c.idAt(c.used() / 2)} : new int[0];
                    assertEquals(pins.length, c.pin(pins, pins.length));
                    for (int p : pins) hot.add(p);
                    assertEquals(pins.length, c.hotCount());
                }
                for (int r = 0; r < c.hotCount(); r++) assertTrue(hot.contains(c.idAt(r)), "hot region is a prefix");
                checkInvariants(c, lastUsed.keySet());
            }
            assertEquals(address, c.rows().part(0).data().address(), "never reallocated");
            assertTrue(counters.evictions() > 0);
        }
    }

    /**
     * Choosing the hot region again moves only the rows whose neurons change region: neurons chosen
     * again stay in their rows, the region is exactly the cached ones of the new choice, and every
     * row keeps its neuron's bytes.
     */
    @Test
    void repinMovesOnlyTheNeuronsThatChangeRegion() {
        try (Arena arena = Arena.ofConfined()) {
            NeuronCache c = new NeuronCache(100, 40, SHAPES, 3, arena, new LayerCounters());
            c.beginToken();
            Set<Integer> cached = new HashSet<>();
            for (int n = 0; n < 30; n++) {
                int row = c.reserve(n);
                fill(c, row, n);
                cached.add(n);
            }
            assertEquals(8, c.repin(new int[] {3, 29, 7, 15, 22, 0, 11, 18}, 8));
            assertEquals(8, c.hotCount());
            Map<Integer, Integer> rowBefore = new HashMap<>();
            for (int r = 0; r < c.used(); r++) rowBefore.put(c.idAt(r), r);
            // 3, 7, 15 and 0 stay hot; 29, 22, 11 and 18 leave; 5, 25, 1 and 2 join; 99 is not cached; 7 twice
            int[] again = {5, 3, 99, 7, 25, 15, 0, 7, 1, 2};
            assertEquals(8, c.repin(again, again.length));
            assertEquals(8, c.hotCount());
            Set<Integer> hot = new HashSet<>();
            for (int r = 0; r < c.hotCount(); r++) hot.add(c.idAt(r));
            assertEquals(Set.of(0, 1, 2, 3, 5, 7, 15, 25), hot, "the region is the cached neurons chosen");
            for (int n : new int[] {3, 7, 15, 0}) assertEquals(rowBefore.get(n), c.rowOf(n), "neuron " + n + " stayed hot and kept its row");
            int moved = 0;
            for (int r = 0; r < c.used(); r++) if (rowBefore.get(c.idAt(r)) != r) moved++;
            assertEquals(8, moved, "the four that joined and the four that left swapped rows; nothing else moved");
            assertEquals(5, c.repin(new int[] {25, 0, 1, 40, 2, 3}, 6), "a smaller region (40 is not cached)");
            hot.clear();
            for (int r = 0; r < c.hotCount(); r++) hot.add(c.idAt(r));
            assertEquals(Set.of(0, 1, 2, 3, 25), hot);
            assertEquals(-1, c.rowOf(99));
            checkInvariants(c, cached);
            assertEquals(0, c.repin(new int[0], 0), "an empty choice releases the region");
            assertEquals(0, c.hotCount());
            checkInvariants(c, cached);
        }
    }

    @Test
    void windowKeepsNeuronsOfTheLastKTokens() {
        try (Arena arena = Arena.ofConfined()) {
            NeuronCache c = new NeuronCache(10, 10, SHAPES, 2, arena, new LayerCounters());
            c.beginToken(); // token 1 uses 3
            assertFalse(c.touch(3));
            fill(c, c.reserve(3), 3);
            c.beginToken(); // token 2 uses 4
            assertTrue(c.rowOf(3) >= 0, "used one token ago");
            assertFalse(c.touch(4));
            fill(c, c.reserve(4), 4);
            c.beginToken(); // token 3: 3 was last used two tokens ago, window is 2 → still in
            assertTrue(c.rowOf(3) >= 0);
            c.beginToken(); // token 4: 3 is now three tokens old → evicted; 4 stays
            assertEquals(-1, c.rowOf(3));
            assertTrue(c.rowOf(4) >= 0);
            assertTrue(c.touch(4));
            c.beginToken();
            c.beginToken();
            assertTrue(c.rowOf(4) >= 0, "re-use renews the window");
            c.beginToken();
            assertEquals(0, c.used());
        }
    }

    @Test
    void evictionCopiesLastRowIntoTheHole() {
        try (Arena arena = Arena.ofConfined()) {
            NeuronCache c = new NeuronCache(10, 3, SHAPES, 1, arena, new LayerCounters());
            c.beginToken();
            for (int n : new int[] {5, 6, 7}) fill(c, c.reserve(n), n);
            c.beginToken();
            c.touch(6);
            c.touch(7);
            assertEquals(3, c.used(), "window 1: all of token 1's neurons stay for token 2");
            c.beginToken();
            // 5 (row 0) is out of the window and was evicted: 7 (last row) moved into row 0
            assertEquals(7, c.idAt(0));
            assertEquals(6, c.idAt(1));
            assertEquals(2, c.used());
            checkInvariants(c, Set.of(6, 7));
        }
    }

    /**
     * In-place replacement (chunked selection): free rows first, then rows of offered neurons the
     * token did not use, oldest first; hot rows, used rows and neurons outside the offered ranges
     * stay, and no other row moves.
     */
    @Test
    void claimReplacesOldestUnusedNeuronsOfOfferedRangesInPlace() {
        try (Arena arena = Arena.ofConfined()) {
            LayerCounters counters = new LayerCounters();
            NeuronCache c = new NeuronCache(100, 6, SHAPES, 4, arena, counters);
            c.beginToken();                                     // step 1
            for (int n : new int[] {10, 60}) fill(c, c.reserve(n), n);
            c.pin(new int[] {10}, 1);                           // 10 is hot
            c.beginToken();                                     // step 2
            for (int n : new int[] {11, 61}) fill(c, c.reserve(n), n);
            c.beginToken();                                     // step 3
            for (int n : new int[] {12, 62}) fill(c, c.reserve(n), n);
            assertEquals(6, c.used());
            c.beginToken();                                     // step 4: the token uses 12 and needs 13, 14, 15, 63
            c.beginReplacing();
            assertTrue(c.touch(12));
            Map<Integer, Integer> rowsBefore = new HashMap<>();
            for (int r = 0; r < c.used(); r++) rowsBefore.put(c.idAt(r), r);
            assertEquals(-1, c.claim(13), "full, and no range offered yet");
            c.offerVictims(0, 50);                              // range [0, 50) chosen: 11 is the only victim (10 hot, 12 used)
            int row13 = c.claim(13);
            assertEquals(rowsBefore.get(11), row13, "11, the oldest unused neuron of the range, gives its row");
            fill(c, row13, 13);
            assertEquals(-1, c.rowOf(11));
            assertEquals(-1, c.claim(14), "neurons 60.. are not offered");
            c.offerVictims(50, 100);                            // 60 (step 1), 61 (step 2), 62 (step 3)
            int row14 = c.claim(14);
            assertEquals(rowsBefore.get(60), row14, "oldest first");
            fill(c, row14, 14);
            int row15 = c.claim(15);
            assertEquals(rowsBefore.get(61), row15);
            fill(c, row15, 15);
            int row63 = c.claim(63);
            assertEquals(rowsBefore.get(62), row63);
            fill(c, row63, 63);
            assertEquals(-1, c.claim(16), "every victim is taken");
            assertEquals(rowsBefore.get(10), c.rowOf(10), "the hot row did not move");
            assertEquals(rowsBefore.get(12), c.rowOf(12), "the used row did not move");
            assertEquals(4, counters.evictions());
            checkInvariants(c, Set.of(10, 12, 13, 14, 15, 63));
            assertThrows(IllegalStateException.class, () -> c.claim(13), "already cached");
            c.beginToken();                                     // step 5: the window (4) still holds all of them
            assertEquals(6, c.used());
            assertTrue(c.touch(13));
        }
    }

    /** Activity: one request weighs 1 now, half after {@code halfLife} tokens; repeated requests add up. */
    @Test
    void activityHalvesEveryHalfLife() {
        try (Arena arena = Arena.ofConfined()) {
            NeuronCache c = new NeuronCache(10, 4, SHAPES, 100, 2, arena, new LayerCounters());
            assertTrue(c.byActivity());
            c.beginToken();
            c.touch(1);
            c.touch(2);
            assertEquals(1f, c.activity(1), 1e-5f);
            c.beginToken();
            c.touch(2);
            c.beginToken();
            assertEquals(0.5f, c.activity(1), 1e-5f, "two tokens (one half-life) later");
            assertEquals(0.5f + 0.70710677f, c.activity(2), 1e-5f, "two requests, one and two tokens ago");
            assertEquals(0f, c.activity(3));
            c.forgetActivity();
            assertEquals(0f, c.activity(2), "a warm-up's activity is forgotten");
            assertFalse(new NeuronCache(10, 4, SHAPES, 100, arena, new LayerCounters()).byActivity());
        }
    }

    /** Thousands of tokens at a half-life of one token: the gain is rescaled, activities stay finite and in order. */
    @Test
    void activityStaysFiniteOverLongRuns() {
        try (Arena arena = Arena.ofConfined()) {
            NeuronCache c = new NeuronCache(10, 4, SHAPES, 5, 1, arena, new LayerCounters());
            for (int t = 0; t < 5000; t++) {
                c.beginToken();
                c.touch(t % 2 == 0 ? 1 : 2);
                if (t % 7 == 0) c.touch(3);
            }
            for (int n = 1; n <= 3; n++) {
                assertTrue(Float.isFinite(c.activity(n)) && c.activity(n) > 0, "neuron " + n + ": " + c.activity(n));
            }
            // Halving every token: 2 (odd t, the last one now) 1 + 1/4 + 1/16 + ... = 4/3, 1 (even t) half that.
            assertEquals(4f / 3, c.activity(2), 1e-4f);
            assertEquals(2f / 3, c.activity(1), 1e-4f);
            assertEquals(0f, c.activity(4));
        }
    }

    /**
     * By activity, claim gives a miss the row of the least active offered victim, and refuses (the
     * caller streams the miss) when even that victim is at least as active as the miss; a refused
     * victim stays for a more active miss. Half-life 4 tokens; activities at token 4 are sums of
     * 2^(-age/4): neuron 1 (tokens 1-3) 2.14, 2 (tokens 1-2) 1.30, 4 (token 2) 0.71, 3 (token 1)
     * 0.59; a miss requested only now 1.0, neuron 52 (tokens 3 and 4) 1.84.
     */
    @Test
    void claimByActivityTakesTheLeastActiveVictimAndStreamsLessActiveMisses() {
        try (Arena arena = Arena.ofConfined()) {
            LayerCounters counters = new LayerCounters();
            NeuronCache c = new NeuronCache(100, 4, SHAPES, 10, 4, arena, counters);
            c.beginToken();                                     // token 1
            for (int n : new int[] {1, 2, 3}) {
                c.touch(n);
                fill(c, c.reserve(n), n);
            }
            c.beginToken();                                     // token 2
            c.touch(1);
            c.touch(2);
            c.touch(4);
            fill(c, c.reserve(4), 4);
            c.beginToken();                                     // token 3
            c.touch(1);
            c.touch(52);                                        // needed, not cached (streamed)
            c.beginToken();                                     // token 4: uses 1, needs 51, 52, 53, 54
            c.beginReplacing();
            assertTrue(c.touch(1));
            for (int n : new int[] {51, 52, 53, 54}) assertFalse(c.touch(n));
            Map<Integer, Integer> rowsBefore = new HashMap<>();
            for (int r = 0; r < c.used(); r++) rowsBefore.put(c.idAt(r), r);
            assertEquals(-1, c.claim(51), "full, and no range offered yet");
            c.offerVictims(0, 100);                             // 2, 3, 4 (1 is used)
            assertEquals(rowsBefore.get(3), c.claim(51), "the least active victim first");
            fill(c, rowsBefore.get(3), 51);
            assertEquals(rowsBefore.get(4), c.claim(53));
            fill(c, rowsBefore.get(4), 53);
            assertEquals(-1, c.claim(54), "neuron 2 is more active than 54: 54 is streamed, 2 stays");
            assertEquals(rowsBefore.get(2), c.rowOf(2));
            assertEquals(rowsBefore.get(2), c.claim(52), "52 is more active than 2");
            fill(c, rowsBefore.get(2), 52);
            assertEquals(-1, c.claim(55), "no victims left");
            assertEquals(3, counters.evictions());
            checkInvariants(c, Set.of(1, 51, 52, 53));
        }
    }

    /**
     * A read-ahead on a guess takes a free row, else the least active offered victim even when the
     * guessed neuron was never requested; nothing is left when no victim is.
     */
    @Test
    void claimAnyGivesAGuessTheLeastActiveVictim() {
        try (Arena arena = Arena.ofConfined()) {
            LayerCounters counters = new LayerCounters();
            NeuronCache c = new NeuronCache(100, 3, SHAPES, 10, 4, arena, counters);
            c.beginToken();
            c.touch(1);
            fill(c, c.reserve(1), 1);
            assertEquals(1, c.claimAny(70), "a free row first");
            c.evict(70);
            for (int n : new int[] {2, 3}) {
                c.touch(n);
                fill(c, c.reserve(n), n);
            }
            c.beginToken();
            c.touch(1);
            c.touch(3);
            c.beginToken();
            c.touch(1);
            c.beginReplacing();
            c.offerVictims(0, 100);                             // 2 and 3 (1 is used this token)
            int row2 = c.rowOf(2), row3 = c.rowOf(3);
            assertEquals(-1, c.claim(80), "claim keeps the more active cached neuron");
            assertEquals(row2, c.claimAny(80), "a guess takes the least active victim though never requested");
            fill(c, row2, 80);
            assertEquals(row3, c.claimAny(81), "then the next least active");
            fill(c, row3, 81);
            assertEquals(-1, c.claimAny(82), "no victims left");
            assertEquals(2, counters.evictions());
            checkInvariants(c, Set.of(1, 80, 81));
        }

        try (Arena arena = Arena.ofConfined()) {
            NeuronCache lru = new NeuronCache(100, 1, SHAPES, 10, arena, new LayerCounters());
            lru.beginToken();
            lru.touch(5);
            fill(lru, lru.reserve(5), 5);
            lru.beginToken();
            lru.beginReplacing();
            lru.offerVictims(0, 100);
            assertEquals(0, lru.claimAny(6), "least recently used: the oldest victim");
            fill(lru, 0, 6);
            checkInvariants(lru, Set.of(6));
        }
    }

    /**
     * The window as a floor: a neuron past the window stays while the cache has room (a later
     * request is a hit), and when room is needed it goes before a neuron used inside the window,
     * even a less active one; claim, claimAny and makeRoom all order victims that way.
     */
    @Test
    void windowAsAFloorKeepsNeuronsPastItWhileThereIsRoomAndEvictsThemFirst() {
        try (Arena arena = Arena.ofConfined()) {
            LayerCounters counters = new LayerCounters();
            NeuronCache c = new NeuronCache(100, 3, SHAPES, 2, 4, arena, counters);
            c.keepPastWindow(true);
            assertTrue(c.keepsPastWindow());
            c.beginToken();                                     // token 1: 1 and 2
            for (int n : new int[] {1, 2}) {
                c.touch(n);
                fill(c, c.reserve(n), n);
            }
            for (int t = 0; t < 6; t++) {                       // tokens 2-7: 1 every token, 2 never again
                c.beginToken();
                c.touch(1);
            }
            assertEquals(2, c.used(), "2 is four tokens past a window of 2 and still cached: there is room");
            assertEquals(0, counters.evictions());
            c.beginToken();                                     // token 8: 3 (new), 1
            c.touch(1);
            c.touch(3);
            fill(c, c.reserve(3), 3);
            c.beginToken();                                     // token 9: 2 comes back, a hit
            assertTrue(c.touch(2));
            for (int t = 0; t < 4; t++) {
                c.beginToken();                                 // tokens 10-13: 1 and 2 every token
                c.touch(1);
                c.touch(2);
            }
            c.beginToken();                                     // token 14: needs 50; 3 is past the window, 2 inside it
            c.touch(1);
            c.beginReplacing();
            assertFalse(c.touch(50));
            c.offerVictims(0, 100);                             // 2 (inside, active) and 3 (past, less active)
            int row3 = c.rowOf(3);
            assertEquals(row3, c.claim(50), "the neuron past the window goes first");
            fill(c, row3, 50);
            assertEquals(-1, c.claim(51), "2 is inside the window and more active than 51: 51 is streamed");
            checkInvariants(c, Set.of(1, 2, 50));
        }

        try (Arena arena = Arena.ofConfined()) {
            NeuronCache c = new NeuronCache(100, 3, SHAPES, 2, 4, arena, new LayerCounters());
            c.keepPastWindow(true);
            c.beginToken();                                     // token 1: 7 and 8 (8 never again)
            for (int n : new int[] {7, 8}) {
                c.touch(n);
                fill(c, c.reserve(n), n);
            }
            for (int t = 0; t < 8; t++) {                       // tokens 2-9: 8 requested often before, 7 once
                c.beginToken();
                c.touch(8);
            }
            for (int t = 0; t < 3; t++) c.beginToken();        // tokens 10-12: nothing; 7 and 8 both past the window
            c.touch(9);
            fill(c, c.reserve(9), 9);                           // token 12 uses 9
            c.beginToken();                                     // token 13: 9 inside the window, 7 and 8 past it
            c.touch(10);
            fill(c, c.makeRoom(1) > 0 ? c.reserve(10) : -1, 10);
            checkInvariants(c, Set.of(8, 9, 10));               // 7, the least active past the window, went
            c.beginToken();
            c.touch(11);
            assertEquals(1, c.makeRoom(1));
            fill(c, c.reserve(11), 11);
            checkInvariants(c, Set.of(9, 10, 11));              // then 8, though more active than 9 and 10
        }
    }

    /** By activity, makeRoom evicts the least active unused neurons first (whole-layer selection). */
    @Test
    void makeRoomByActivityEvictsTheLeastActiveFirst() {
        try (Arena arena = Arena.ofConfined()) {
            NeuronCache c = new NeuronCache(100, 4, SHAPES, 10, 4, arena, new LayerCounters());
            c.beginToken();                                     // token 1: 7, 8, 9
            for (int n : new int[] {7, 8, 9}) {
                c.touch(n);
                fill(c, c.reserve(n), n);
            }
            for (int t = 0; t < 8; t++) {                       // tokens 2-9: 8 every token, 9 every other
                c.beginToken();
                c.touch(8);
                if (t % 2 == 0) c.touch(9);
            }
            c.beginToken();                                     // token 10: uses 6 (new), needs room for two
            c.touch(6);
            fill(c, c.reserve(6), 6);
            assertEquals(2, c.makeRoom(2), "7 (least active) then 9 go; 8 stays");
            checkInvariants(c, Set.of(6, 8));
        }
    }

    /**
     * Random tokens by activity, through makeRoom (odd tokens) and claim (even tokens): rows keep
     * their neuron's bytes, the window still evicts, hot and used neurons never go, makeRoom evicts
     * no candidate more active than one it keeps, and claim only ever replaces a neuron less active
     * than the miss.
     */
    @Test
    void randomWorkloadByActivity() {
        Random rnd = new Random(2);
        int neurons = 300;
        int window = 4;
        try (Arena arena = Arena.ofConfined()) {
            LayerCounters counters = new LayerCounters();
            NeuronCache c = new NeuronCache(neurons, 60, SHAPES, window, 3, arena, counters);
            Map<Integer, Long> lastUsed = new HashMap<>();
            Set<Integer> hot = new HashSet<>();
            int replaced = 0, streamed = 0;
            for (int t = 1; t <= 300; t++) {
                c.beginToken();
                final long step = t;
                for (int n = 0; n < neurons; n++) {
                    if (c.rowOf(n) >= 0 && !hot.contains(n)) assertTrue(lastUsed.get(n) >= step - window, "window evicts " + n);
                }
                Set<Integer> want = new java.util.TreeSet<>();
                int k = rnd.nextInt(80);
                for (int i = 0; i < k; i++) want.add(rnd.nextInt(rnd.nextBoolean() ? 50 : neurons));
                List<Integer> misses = new ArrayList<>();
                for (int n : want) {
                    if (!c.touch(n)) misses.add(n);
                    lastUsed.put(n, step);
                }
                Set<Integer> before = new HashSet<>();
                for (int r = 0; r < c.used(); r++) before.add(c.idAt(r));
                if (t % 2 == 1) {
                    int free = c.makeRoom(misses.size());
                    float maxGone = 0, minKept = Float.MAX_VALUE;
                    for (int n : before) {
                        boolean candidate = !hot.contains(n) && !want.contains(n);
                        if (c.rowOf(n) < 0) {
                            assertTrue(candidate, "evicted a hot or used neuron: " + n);
                            maxGone = Math.max(maxGone, c.activity(n));
                        } else if (candidate) {
                            minKept = Math.min(minKept, c.activity(n));
                        }
                    }
                    assertTrue(maxGone <= minKept, "evicted " + maxGone + ", kept " + minKept);
                    for (int i = 0; i < Math.min(free, misses.size()); i++) fill(c, c.reserve(misses.get(i)), misses.get(i));
                } else {
                    c.beginReplacing();
                    c.offerVictims(0, neurons);
                    for (int n : misses) {
                        Map<Integer, Integer> idOfRow = new HashMap<>();
                        for (int r = 0; r < c.used(); r++) idOfRow.put(r, c.idAt(r));
                        boolean wasFull = c.used() == c.capacity();
                        int row = c.claim(n);
                        if (row < 0) {
                            streamed++;
                            continue;
                        }
                        if (wasFull) {
                            replaced++;
                            int gone = idOfRow.get(row);
                            assertFalse(hot.contains(gone) || want.contains(gone), "replaced a hot or used neuron: " + gone);
                            assertTrue(c.activity(gone) < c.activity(n), "replaced a more active neuron");
                        }
                        fill(c, row, n);
                    }
                }
                if (t == 50) {
                    int[] pins = {c.idAt(0), c.idAt(c.used() - 1)};
                    assertEquals(2, c.pin(pins, 2));
                    for (int p : pins) hot.add(p);
                }
                Set<Integer> now = new HashSet<>();
                for (int r = 0; r < c.used(); r++) now.add(c.idAt(r));
                checkInvariants(c, now);
                assertTrue(now.containsAll(hot));
            }
            assertTrue(replaced > 50 && streamed > 50 && counters.evictions() > replaced,
                    "both paths exercised: replaced " + replaced + ", streamed " + streamed + ", evictions " + counters.evictions());
        }
    }

    /**
     * Several tokens begun as one (a streamed prompt batch): the clock and the activity's decay
     * advance by that many tokens, a neuron requested by k of them counts k requests, the window
     * is applied as at the batch's first token (rows it is about to use stay however long it is),
     * and rows the batch did not use leave at the next token.
     */
    @Test
    void tokensBegunTogetherCountAsThatManyTokens() {
        try (Arena arena = Arena.ofConfined()) {
            NeuronCache one = new NeuronCache(10, 4, SHAPES, 2, 16, arena, new LayerCounters());
            NeuronCache many = new NeuronCache(10, 4, SHAPES, 2, 16, arena, new LayerCounters());
            for (NeuronCache c : List.of(one, many)) {
                c.beginToken();
                for (int n : new int[] {1, 2}) {
                    c.touch(n);
                    fill(c, c.reserve(n), n);
                }
            }
            for (int t = 0; t < 6; t++) one.beginToken();
            many.beginTokens(6);
            assertEquals(7, many.step());
            assertEquals(one.step(), many.step());
            assertEquals(one.activity(1), many.activity(1), 1e-6f, "a request six tokens ago decayed as much");
            assertTrue(many.touch(2, 4), "used within the window before the batch: still cached");
            assertFalse(many.touch(5, 3));
            assertEquals(4 + 1, many.activationCount(2));
            assertEquals(3, many.activationCount(5));
            assertEquals(-1, one.rowOf(2), "six single tokens without it: gone");
            assertTrue(many.rowOf(1) >= 0, "not used by the batch, kept until the next token");
            many.beginToken();
            assertEquals(-1, many.rowOf(1), "and gone then");
            assertTrue(many.rowOf(2) >= 0);
            assertThrows(IllegalArgumentException.class, () -> many.beginTokens(0));
        }
    }
}
