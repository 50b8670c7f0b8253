package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.select.Selection;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SelectionLogTest {
    /** The format scripts/cache-replay.py reads: one line per layer and token. */
    @Test
    void lineListsTheLayerAndItsNeuronsAscending() {
        Selection sel = new Selection(16);
        sel.add(3);
        sel.add(7);
        sel.add(15);
        assertEquals("2:3 7 15\n", SelectionLog.line(2, sel));
        sel.clear();
        assertEquals("0:\n", SelectionLog.line(0, sel), "a token that needs no neuron");
        sel.selectAll();
        assertEquals(16, SelectionLog.line(1, sel).split(" ").length);
    }
}
