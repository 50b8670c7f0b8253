package io.flashllm.predictor.runtime;

import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.select.Selection;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.predictor.format.PredictorFileWriter;
import io.flashllm.predictor.format.PredictorFormat;
import io.flashllm.predictor.format.PredictorSet;
import io.flashllm.predictor.format.PredictorStats;
import io.flashllm.predictor.trace.ActivationOracle;
import io.flashllm.predictor.train.LowRank;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PredictedSelectorTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    static LowRank random(Random rnd, int d, int n, int r) {
        LowRank p = new LowRank(d, n, r);
        for (int i = 0; i < p.a.length; i++) p.a[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < p.b.length; i++) p.b[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < p.c.length; i++) p.c[i] = (float) rnd.nextGaussian();
        p.threshold = 1.5f;
        return p;
    }

    private PredictorSet write(List<LowRank> ps) throws IOException {
        return write(ps, PredictorFormat.WeightType.F32);
    }

    private PredictorSet write(List<LowRank> ps, PredictorFormat.WeightType type) throws IOException {
        List<Path> files = new ArrayList<>();
        for (int l = 0; l < ps.size(); l++) {
            Path f = dir.resolve("l" + l + "-" + type + "-" + System.nanoTime() + ".bin");
            PredictorFileWriter.write(f, l, ps.get(l), type, new PredictorStats(1, 1, 0, 0, 0.99f, 1, 1));
            files.add(f);
        }
        return PredictorSet.openFiles(files, "test");
    }

    @Test
    void selectionEqualsScalarReferenceOfLowRankScores() throws IOException {
        check(PredictorFormat.WeightType.F32);
    }

    @Test
    void q8SelectionEqualsScalarReferenceOfTheDequantizedWeights() throws IOException {
        check(PredictorFormat.WeightType.Q8);
    }

    @Test
    void f16SelectionEqualsScalarReferenceOfTheHalfPrecisionWeights() throws IOException {
        check(PredictorFormat.WeightType.F16);
    }

    @Test
    void parallelScoringSelectsTheSameNeurons() throws IOException {
        try (Parallel p = Parallel.create(3)) {
            check(PredictorFormat.WeightType.F32, p);
            check(PredictorFormat.WeightType.Q8, p);
        }
    }

    private void check(PredictorFormat.WeightType type) throws IOException {
        check(type, null);
    }

    private void check(PredictorFormat.WeightType type, Parallel parallel) throws IOException {
        Random rnd = new Random(31);
        int d = 37;
        int n = 150;
        List<LowRank> stored = List.of(random(rnd, d, n, 9), random(rnd, d, n, 16));
        // The reference computes with exactly what the file keeps.
        List<LowRank> ps = new ArrayList<>();
        for (LowRank p : stored) {
            LowRank q = p.copy();
            q.roundTrip(type);
            ps.add(q);
        }
        try (PredictorSet set = write(stored, type)) {
            PredictedSelector sel = new PredictedSelector(set, null, parallel);
            Selection s = new Selection(n);
            int close = 0;
            for (int trial = 0; trial < 50; trial++) {
                int layer = trial % 2;
                LowRank p = ps.get(layer);
                float[] x = new float[d];
                for (int i = 0; i < d; i++) x[i] = (float) rnd.nextGaussian() * 0.3f;
                s.clear();
                sel.select(layer, x, s);
                int k = 0;
                for (int j = 0; j < n; j++) {
                    double score = p.c[j];
                    for (int i = 0; i < p.rank; i++) {
                        double h = 0;
                        for (int c = 0; c < d; c++) h += (double) p.a[i * d + c] * x[c];
                        score += p.b[j * p.rank + i] * h;
                    }
                    boolean want = score > p.threshold;
                    boolean got = k < s.count() && s.neurons()[k] == j;
                    if (got) k++;
                    if (Math.abs(score - p.threshold) < 1e-3) {
                        close++;
                        continue; // float vs double rounding may fall either way this near the threshold
                    }
                    assertEquals(want, got, "layer " + layer + " neuron " + j + " score " + score);
                }
                assertEquals(s.count(), k, "ids ascending and nothing else selected");
            }
            assertTrue(close < 10);
            assertEquals(50, sel.calls().sum());
            assertEquals(50L * n, sel.considered().sum());
            assertTrue(sel.nanos().sum() > 0);
        }
    }

    @Test
    void qualitySamplerCountsRecallFalseNegativesAndMissedMass() {
        // One layer, 4 neurons over dim 2; gate rows chosen so pre-activations are known exactly.
        float[] gate = {1, 0, 0, 1, -1, 0, 1, 1};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(4L * gate.length);
            for (int i = 0; i < gate.length; i++) seg.set(F32, 4L * i, gate[i]);
            WeightTensor w = new WeightTensor("gate", GgmlType.F32, new long[] {2, 4}, seg);
            ActivationOracle oracle = new ActivationOracle(List.of(w), null, new FfnActivation(FfnActivation.Kind.GATED_RELU, 0));
            QualitySampler q = new QualitySampler(oracle, 1.0, 1);
            float[] x = {2, 3}; // pre = 2, 3, -2, 5: neurons 0, 1, 3 active, mass 10
            Selection s = new Selection(4);
            s.add(1);
            s.add(2);
            q.check(0, x, s);
            QualityCounters.Snapshot snap = q.total().snapshot();
            assertEquals(1, snap.samples());
            assertEquals(1, snap.truePositives());
            assertEquals(2, snap.falseNegatives());
            assertEquals(1, snap.falsePositives());
            assertEquals(7.0, snap.missedMass(), 1e-6);
            assertEquals(10.0, snap.totalMass(), 1e-6);
            assertEquals(1.0 / 3, snap.recall(), 1e-12);
            assertEquals(0.5, snap.precision(), 1e-12);
            assertEquals(0.7, snap.falseNegativeMass(), 1e-6);
            assertEquals(snap, q.layer(0).snapshot());
        }
    }

    @Test
    void samplingRateIsHonoured() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(8);
            WeightTensor w = new WeightTensor("g", GgmlType.F32, new long[] {2, 1}, seg);
            ActivationOracle oracle = new ActivationOracle(List.of(w), null, new FfnActivation(FfnActivation.Kind.GATED_RELU, 0));
            QualitySampler q = new QualitySampler(oracle, 0.1, 99);
            int hits = 0;
            for (int i = 0; i < 100_000; i++) if (q.draw()) hits++;
            assertEquals(10_000, hits, 400);
            QualitySampler none = new QualitySampler(oracle, 0, 99);
            for (int i = 0; i < 1000; i++) assertTrue(!none.draw());
        }
    }
}
