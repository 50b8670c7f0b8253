package io.flashllm.predictor.eval;

import io.flashllm.flashstore.select.NeuronSelector;
import io.flashllm.flashstore.select.Selection;
import io.flashllm.predictor.trace.TraceFormat;
import io.flashllm.predictor.trace.TraceReader;

import java.nio.file.Path;

/**
 * FFN bytes read per token relative to dense, for a selector plus a window of the last k tokens'
 * neurons (k = 0: the selector alone), replayed over recorded FFN inputs. Every neuron's bundle has
 * the same size, so bytes read ÷ dense FFN bytes = neurons read ÷ all neurons; a neuron is read
 * when it is selected and was not selected in any of the previous k tokens. Also counts the
 * selector's recall against the recorded true masks on the same tokens. With no selector the
 * recorded true masks themselves are replayed: the floor any exact selection reaches.
 */
public final class WindowSimulator {
    /**
     * readFraction[k] = mean share of a layer's neurons read per token with a window of k tokens;
     * heldFraction[k] = mean share the window keeps in DRAM after the token (selected in it or in
     * the k tokens before), the cache a window of k needs to read only readFraction[k].
     */
    public record Result(int tokens, int layers, double[] readFraction, double[] heldFraction, double selectedFraction,
                         double trueFraction, double recall) {}

    private WindowSimulator() {}

    /**
     * @param selector picks each token's neurons from its FFN input; null: the recorded true mask
     * @param first   first record of each layer's trace to replay (e.g. the held-out part)
     * @param warmup  records replayed before counting starts (fills the window)
     * @param maxK    largest window
     */
    public static Result simulate(Path traceDir, int layers, NeuronSelector selector, int first, int warmup, int maxK) {
        long[] read = new long[maxK + 1];
        long[] heldAtAge = new long[maxK + 1];
        long selected = 0;
        long positives = 0;
        long hits = 0;
        long cells = 0;
        int tokens = 0;
        for (int l = 0; l < layers; l++) {
            try (TraceReader r = TraceReader.open(traceDir.resolve(TraceFormat.layerFile(l)))) {
                var h = r.header();
                int n = h.neurons();
                int words = h.maskWords();
                float[] x = new float[h.dim()];
                long[] mask = new long[words];
                Selection sel = new Selection(n);
                int[] lastSeen = new int[n];
                java.util.Arrays.fill(lastSeen, Integer.MIN_VALUE / 2);
                TraceReader.Cursor c = r.cursor();
                int t = -first;
                int counted = 0;
                while (c.next(x, mask, 1) == 1) {
                    if (t++ < 0) continue;
                    int step = t - 1;
                    sel.clear();
                    if (selector != null) {
                        selector.select(l, x, sel);
                    } else {
                        for (int j = 0; j < n; j++) if ((mask[j >>> 6] & (1L << (j & 63))) != 0) sel.add(j);
                    }
                    boolean count = step >= warmup;
                    int[] ids = sel.neurons();
                    for (int i = 0; i < sel.count(); i++) {
                        int j = ids[i];
                        int gap = step - lastSeen[j];
                        lastSeen[j] = step;
                        if (!count) continue;
                        // Read with window k when not selected in the last k tokens: gap > k.
                        for (int k = 0; k <= maxK && k < gap; k++) read[k]++;
                        if ((mask[j >>> 6] & (1L << (j & 63))) != 0) hits++;
                    }
                    if (count) {
                        for (int j = 0; j < n; j++) {
                            int age = step - lastSeen[j];
                            if (age <= maxK) heldAtAge[age]++;
                        }
                        selected += sel.count();
                        for (long w : mask) positives += Long.bitCount(w);
                        cells += n;
                        counted++;
                    }
                }
                if (l == 0) tokens = counted;
            }
        }
        double[] frac = new double[maxK + 1];
        double[] held = new double[maxK + 1];
        long heldCells = 0;
        for (int k = 0; k <= maxK; k++) {
            frac[k] = cells == 0 ? 0 : (double) read[k] / cells;
            heldCells += heldAtAge[k]; // a neuron last selected `age` tokens ago is still held by every window k >= age
            held[k] = cells == 0 ? 0 : (double) heldCells / cells;
        }
        return new Result(tokens, layers, frac, held, cells == 0 ? 0 : (double) selected / cells, cells == 0 ? 0 : (double) positives / cells,
                positives == 0 ? 1.0 : (double) hits / positives);
    }
}
