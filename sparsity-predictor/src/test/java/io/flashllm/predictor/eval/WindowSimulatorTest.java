package io.flashllm.predictor.eval;

import io.flashllm.flashstore.select.NeuronSelector;
import io.flashllm.flashstore.select.Selection;
import io.flashllm.predictor.trace.TraceFormat;
import io.flashllm.predictor.trace.TraceHeader;
import io.flashllm.predictor.trace.TraceWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

class WindowSimulatorTest {
    @TempDir
    Path dir;

    /** Selects neuron j when x[j] > 0 (dim = neurons), so the traces spell out the selections. */
    static final NeuronSelector SIGN = new NeuronSelector() {
        @Override
        public String name() {
            return "sign";
        }

        @Override
        public void select(int layer, float[] x, Selection out) {
            for (int j = 0; j < x.length; j++) if (x[j] > 0) out.add(j);
        }

        @Override
        public boolean needsResidentGate() {
            return false;
        }
    };

    @Test
    void countsNeuronsTheWindowLacks() {
        // 4 neurons; selections per token: {0,1}, {1,2}, {0,1}, {3}, {0}; true masks: {0,1,2} every token.
        int[][] sel = {{0, 1}, {1, 2}, {0, 1}, {3}, {0}};
        try (TraceWriter w = new TraceWriter(dir.resolve(TraceFormat.layerFile(0)), new TraceHeader(0, 4, 4, TraceFormat.XType.F32, 2))) {
            for (int[] s : sel) {
                float[] x = {-1, -1, -1, -1};
                for (int j : s) x[j] = 1;
                w.append(x, 0, new long[] {0b0111});
            }
        }
        WindowSimulator.Result r = WindowSimulator.simulate(dir, 1, SIGN, 0, 1, 3);
        // Counted tokens 1..4. k=0: 2+2+1+1 = 6 reads. k=1: token1 {2} new, token2 {0} new, token3 {3}, token4 {0} -> 4.
        // k=2: token1 {2}, token2 {} (0 seen at t0), token3 {3}, token4 {} (0 at t2) -> 2. k=3: same as k=2 -> 2.
        assertEquals(4, r.tokens());
        assertEquals(6 / 16.0, r.readFraction()[0], 1e-12);
        assertEquals(4 / 16.0, r.readFraction()[1], 1e-12);
        assertEquals(2 / 16.0, r.readFraction()[2], 1e-12);
        assertEquals(2 / 16.0, r.readFraction()[3], 1e-12);
        assertEquals(6 / 16.0, r.selectedFraction(), 1e-12);
        assertEquals(12 / 16.0, r.trueFraction(), 1e-12);
        // Held after each counted token (selected in it or the k tokens before). k=0, the token's own selection: {1,2} 2, {0,1} 2, {3} 1, {0} 1 = 6. k=1: {0,1,2} 3, {0,1,2} 3, {0,1,3} 3, {0,3} 2 = 11.
        // k=2: {0,1,2} 3, {0,1,2} 3, {0,1,2,3} 4, {0,1,3} 3 = 13. k=3: 3, 3, 4, {0,1,2,3} 4 = 14.
        assertEquals(6 / 16.0, r.heldFraction()[0], 1e-12);
        assertEquals(11 / 16.0, r.heldFraction()[1], 1e-12);
        assertEquals(13 / 16.0, r.heldFraction()[2], 1e-12);
        assertEquals(14 / 16.0, r.heldFraction()[3], 1e-12);
        // True positives among counted tokens: {1,2} 2, {0,1} 2, {} 0, {0} 1 = 5 of 12.
        assertEquals(5 / 12.0, r.recall(), 1e-12);

        // No selector: the true masks {0,1,2} every token. k=0 reads 3 per token; any window reads nothing after token 0.
        WindowSimulator.Result exact = WindowSimulator.simulate(dir, 1, null, 0, 1, 3);
        assertEquals(12 / 16.0, exact.readFraction()[0], 1e-12);
        assertEquals(0.0, exact.readFraction()[1], 1e-12);
        assertEquals(12 / 16.0, exact.selectedFraction(), 1e-12);
        assertEquals(1.0, exact.recall(), 1e-12);
        assertEquals(12 / 16.0, exact.heldFraction()[3], 1e-12);
    }
}
