package io.flashllm.flashstore.ffn;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The expert budget's bookkeeping: least recently used out first (a scan's most recently used), never one the current
 * pass uses.
 */
class ExpertResidencyTest {
    @Test
    void leastRecentlyUsedGoFirstAndTheCurrentPassStays() {
        ExpertResidency r = new ExpertResidency(300, new long[] {100, 100, 100, 100, 100});
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
        // 500 counted: expert 1 (pass 1) is the oldest, then 0 and 2 (pass 2, the lower index first among equals).
        assertEquals(1, r.nextToPageOut());
        assertEquals(0, r.nextToPageOut());
        assertEquals(-1, r.nextToPageOut());
        assertEquals(300, r.countedBytes());
        assertEquals(2, r.pagedOut());
        assertTrue(r.use(1), "paged out, so counted in again when used");
    }

    @Test
    void aPassLargerThanTheBudgetKeepsItsExpertsUntilTheNext() {
        ExpertResidency r = new ExpertResidency(150, new long[] {100, 100, 100});
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
        ExpertResidency r = new ExpertResidency(300, new long[] {100, 100, 100, 100, 100});
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
        assertThrows(IllegalArgumentException.class, () -> new ExpertResidency(0, new long[] {1}));
    }
}
