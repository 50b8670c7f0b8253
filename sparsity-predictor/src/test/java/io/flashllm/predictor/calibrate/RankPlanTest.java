package io.flashllm.predictor.calibrate;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RankPlanTest {
    @Test
    void plansParse() {
        RankPlan p = RankPlan.parse("*:128,14-15:1024", 16, 64);
        for (int l = 0; l < 14; l++) assertEquals(128, p.rank(l));
        assertEquals(1024, p.rank(14));
        assertEquals(1024, p.rank(15));
        RankPlan q = RankPlan.parse("3:256", 5, 64);
        assertEquals(64, q.rank(0));
        assertEquals(256, q.rank(3));
        RankPlan pos = RankPlan.parse("8, 16,32", 3, 1);
        assertEquals(16, pos.rank(1));
        assertEquals(32, pos.rank(2));
        assertEquals(7, RankPlan.parse("", 2, 7).rank(1));
        assertEquals(9, RankPlan.uniform(4, 9).rank(3));
    }

    @Test
    void badPlansSayWhatIsWrong() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RankPlan.parse("1,2", 3, 1)).getMessage().contains("2 ranks"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RankPlan.parse("5:8", 3, 1)).getMessage().contains("layer 5"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RankPlan.parse("1:x", 3, 1)).getMessage().contains("'x'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RankPlan.parse("2-1:4", 3, 1)).getMessage().contains("empty"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RankPlan.parse("1:0", 3, 1)).getMessage().contains("positive"));
        assertThrows(IllegalArgumentException.class, () -> RankPlan.uniform(3, 0));
    }

    @Test
    void tableListsEveryLayerAndTotals() {
        String t = CalibrationTable.format(java.util.List.of(
                new LayerReport(0, 128, 0.99, 0.5, 0.1, 0.05, 1 << 20, 800, 200, 3, 0.2, 10, 100),
                new LayerReport(1, 256, 0.995, 0.7, 0.08, 0.06, 3 << 20, 800, 200, 2, 0.15, 10, 100)));
        assertTrue(t.contains("0.9925"), t);
        assertTrue(t.contains("4.0 MiB") || t.contains("4096.0 KiB"), t);
        assertEquals(4, t.lines().count());
    }
}
