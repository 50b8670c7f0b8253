package io.flashllm.flashstore.ffn;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The expert budget's bookkeeping: least active out first (a scan's most recently used), never one the current pass
 * uses; a use counts half as much {@link ExpertResidency#HALF_LIFE_TOKENS} tokens later.
 */
class ExpertResidencyTest {
    @Test
    void leastActiveGoFirstAndTheCurrentPassStays() {
        ExpertResidency r = new ExpertResidency(300, new long[] {100, 100, 100, 100, 100}, 1);
        r.startPass();
        assertTrue(r.use(0));
        assertTrue(r.use(1));
        r.startPass();
        assertTrue(r.use(2));
        assertFalse(r.use(0), "counted in already");
        assertEquals(300, r.countedBytes());
        assertEquals(-1, r.nextToPageOut(), "within the budget");
        r.startPass();
        r.use(3);
        r.use(4);
        // 500 counted: experts 1 and 2 were used once, 1 longer ago; expert 0, used twice, is the most active.
        assertEquals(1, r.nextToPageOut());
        assertEquals(2, r.nextToPageOut());
        assertEquals(-1, r.nextToPageOut());
        assertEquals(300, r.countedBytes());
        assertEquals(2, r.pagedOut());
        assertTrue(r.use(1), "paged out, so counted in again when used");
    }

    @Test
    void usesFadeWithAHalfLifeOfSixteenTokens() {
        // Two layers: a token is two passes. Expert 0 is used in each of four tokens, then nothing; expert 1 once, later.
        ExpertResidency r = new ExpertResidency(100, new long[] {100, 100, 100}, 2);
        for (int token = 0; token < 4; token++) {
            pass(r, 0);
            pass(r);
        }
        idle(r, 6);
        pass(r, 1);
        pass(r, 2);
        // Six tokens on, four uses still count for more than one: the single use goes.
        assertEquals(1, r.nextToPageOut());
        assertTrue(r.use(1));
        idle(r, 69);
        pass(r, 1);
        pass(r, 2);
        // ~75 tokens after expert 0's last use its four have faded to 4 / 2^4.6 = 0.17 of a use: it goes first now.
        assertEquals(0, r.nextToPageOut());
        assertEquals(1, r.nextToPageOut());
        assertEquals(-1, r.nextToPageOut());
    }

    @Test
    void aLongRunKeepsTheOrderAcrossTheGainsRescaling() {
        // One layer: the gain doubles every 16 passes and passes the double's range (~1e300) after ~16,000 of them.
        ExpertResidency r = new ExpertResidency(100, new long[] {100, 100, 100}, 1);
        for (int i = 0; i < 100_000; i++) {
            pass(r, i % 3 == 0 ? 0 : 1); // expert 0 a third of the passes, expert 1 the rest
        }
        pass(r, 2);
        // Of the two not in this pass, 0 (used last, but a third as often) goes first: without the rescaling both sums
        // would be infinite and recency would send 1 first.
        assertEquals(0, r.nextToPageOut());
        assertEquals(1, r.nextToPageOut());
        assertEquals(-1, r.nextToPageOut());
    }

    /** A pass that uses {@code experts}. */
    private static void pass(ExpertResidency r, int... experts) {
        r.startPass();
        for (int g : experts) r.use(g);
    }

    /** Tokens of two passes that use none of the experts. */
    private static void idle(ExpertResidency r, int tokens) {
        for (int i = 0; i < 2 * tokens; i++) r.startPass();
    }

    @Test
    void aTokenCycleLargerThanTheBudgetKeepsTheExpertsUsedMost() {
        // Three layers, each token using its layer's favourite (0, 1, 2) and one of four others in turn: six experts a
        // token, room for five. Least-recently-used would read all six every token (the cycle gives up what it needs
        // next); by activity the three favourites stay once the first tokens have shown them.
        int layers = 3;
        int perLayer = 5;
        long[] bytes = new long[layers * perLayer];
        java.util.Arrays.fill(bytes, 1);
        ExpertResidency r = new ExpertResidency(5, bytes, layers);
        int favouriteMisses = 0;
        int reads = 0;
        for (int token = 0; token < 40; token++) {
            for (int l = 0; l < layers; l++) {
                r.startPass();
                boolean favourite = r.use(l * perLayer);
                boolean other = r.use(l * perLayer + 1 + token % 4);
                while (r.nextToPageOut() >= 0) {
                    // paged out
                }
                if (token >= 8) {
                    favouriteMisses += favourite ? 1 : 0;
                    reads += (favourite ? 1 : 0) + (other ? 1 : 0);
                }
            }
        }
        assertEquals(0, favouriteMisses, "the favourites stay");
        assertTrue(reads <= 32 * layers, "at most the others are read: " + reads);
    }

    @Test
    void aPassLargerThanTheBudgetKeepsItsExpertsUntilTheNext() {
        ExpertResidency r = new ExpertResidency(150, new long[] {100, 100, 100}, 1);
        r.startPass();
        r.use(0);
        r.use(1);
        assertEquals(-1, r.nextToPageOut(), "both in use now");
        r.startPass();
        r.use(2);
        assertEquals(0, r.nextToPageOut());
        assertEquals(1, r.nextToPageOut());
        assertEquals(-1, r.nextToPageOut());
        assertEquals(100, r.countedBytes());
    }

    @Test
    void aScanPagesOutTheMostRecentlyUsedFirst() {
        ExpertResidency r = new ExpertResidency(300, new long[] {100, 100, 100, 100, 100}, 1);
        for (int g = 0; g < 3; g++) {
            r.startPass();
            r.use(g);
        }
        r.startPass();
        r.use(3);
        r.use(3);
        r.use(4);
        assertEquals(2, r.passUsed(), "expert 3 counted once in the pass");
        // 500 counted, two over: a scan gives up 2 (used last) then 1; expert 0, used first, is needed first next time.
        assertEquals(2, r.nextToPageOut(true));
        assertEquals(1, r.nextToPageOut(true));
        assertEquals(-1, r.nextToPageOut(true));
        r.startPass();
        assertEquals(0, r.passUsed());
        r.use(1);
        assertEquals(0, r.nextToPageOut(false), "outside a scan the least recently used, as before");
    }

    @Test
    void aBudgetMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new ExpertResidency(0, new long[] {1}, 1));
        assertThrows(IllegalArgumentException.class, () -> new ExpertResidency(1, new long[] {1}, 0));
    }
}
