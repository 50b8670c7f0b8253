package io.flashllm.flashstore.budget;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class MemoryBudgetTest {
    @Test
    void parsesSizes() {
        assertEquals(600L << 20, MemorySize.parse("600M"));
        assertEquals(600L << 20, MemorySize.parse("600MiB"));
        assertEquals(600L << 20, MemorySize.parse("600mb"));
        assertEquals(3L << 29, MemorySize.parse("1.5G"));
        assertEquals(4096, MemorySize.parse("4096"));
        assertEquals(2048, MemorySize.parse("2k"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MemorySize.parse("lots"));
        assertTrue(e.getMessage().contains("lots"));
        assertThrows(IllegalArgumentException.class, () -> MemorySize.parse("-5M"));
        assertThrows(IllegalArgumentException.class, () -> MemorySize.parse(""));
    }

    @Test
    void splitsBudget() {
        long mib = 1L << 20;
        MemoryBudget b = new MemoryBudget(600 * mib, 200 * mib, 50 * mib, 16 * mib, 4 * mib, 64 * mib, 16, 8192, 4352, 0.25);
        MemoryBudget.Split s = b.split();
        long left = (600 - 200 - 50 - 16 - 4 - 64) * mib;
        assertEquals(left / (4352L * 16), s.cacheRowsPerLayer());
        assertEquals(s.cacheRowsPerLayer() / 4, s.hotRowsPerLayer());
        assertEquals((long) s.cacheRowsPerLayer() * 4352 * 16, s.hotRegion() + s.windowCache());
        assertTrue(s.unused() >= 0 && s.unused() < 4352L * 16);
        assertFalse(s.wholeFfnFits());
        String d = s.describe();
        assertTrue(d.contains("resident tensors") && d.contains("KV cache") && d.contains("hot neuron region")
                && d.contains("window neuron cache"), d);
    }

    @Test
    void bigBudgetHoldsWholeFfn() {
        MemoryBudget.Split s = new MemoryBudget(1L << 40, 1000, 1000, 1000, 1000, 1000, 2, 100, 64, 0.5).split();
        assertTrue(s.wholeFfnFits());
        assertEquals(100, s.cacheRowsPerLayer());
        assertEquals(50, s.hotRowsPerLayer());
    }

    @Test
    void refusesBudgetBelowResidentPart() {
        long mib = 1L << 20;
        BudgetException e = assertThrows(BudgetException.class,
                () -> new MemoryBudget(300 * mib, 280 * mib, 50 * mib, 16 * mib, 4 * mib, 0, 16, 8192, 4352, 0.25).split());
        assertTrue(e.getMessage().contains("cannot hold the resident part") && e.getMessage().contains("short"), e.getMessage());
    }
}
