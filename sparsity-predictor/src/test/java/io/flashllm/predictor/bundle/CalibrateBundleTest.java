package io.flashllm.predictor.bundle;

import io.flashllm.flashstore.bundle.BundleFeedForward;
import io.flashllm.flashstore.bundle.BundleFfnOptions;
import io.flashllm.flashstore.bundle.BundleFormat;
import io.flashllm.flashstore.bundle.BundleModel;
import io.flashllm.flashstore.bundle.BundleOpenOptions;
import io.flashllm.flashstore.bundle.ConvertOptions;
import io.flashllm.flashstore.bundle.Converter;
import io.flashllm.flashstore.bundle.FfnFile;
import io.flashllm.flashstore.bundle.Manifest;
import io.flashllm.flashstore.bundle.Verifier;
import io.flashllm.flashstore.bundle.VerifyReport;
import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.io.IoEngine;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.predictor.PredictorException;
import io.flashllm.predictor.calibrate.BundleCalibration;
import io.flashllm.predictor.calibrate.CalibrationTable;
import io.flashllm.predictor.calibrate.PredictorTraining;
import io.flashllm.predictor.calibrate.RankPlan;
import io.flashllm.predictor.eval.WindowSimulator;
import io.flashllm.predictor.format.PredictorFormat;
import io.flashllm.predictor.format.PredictorSet;
import io.flashllm.predictor.format.PredictorStore;
import io.flashllm.predictor.math.Workers;
import io.flashllm.predictor.runtime.PredictedSelector;
import io.flashllm.predictor.runtime.PredictedSelectors;
import io.flashllm.predictor.runtime.QualityCounters;
import io.flashllm.predictor.runtime.QualitySampler;
import io.flashllm.predictor.trace.ActivationOracle;
import io.flashllm.predictor.trace.TraceFormat;
import io.flashllm.predictor.trace.TraceReader;
import io.flashllm.predictor.trace.TraceRecorder;
import io.flashllm.predictor.train.TrainOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Calibration against real bundles: record, train, store in the bundle, reopen, select through the neuron cache. */
class CalibrateBundleTest {
    static final int LAYERS = 2;
    static final int DIM = 32;
    static final int FFN = 128;

    @TempDir
    Path dir;

    /** FFN inputs with a few strong directions, as normalized hidden states have. */
    static final class Inputs {
        final float[][] m = new float[LAYERS][DIM * 5];
        final Random r;

        Inputs(long seed) {
            r = new Random(seed);
            for (float[] mm : m) for (int i = 0; i < mm.length; i++) mm[i] = (float) r.nextGaussian();
        }

        float[] next(int layer) {
            float[] z = new float[5];
            for (int i = 0; i < 5; i++) z[i] = (float) r.nextGaussian();
            float[] x = new float[DIM];
            for (int c = 0; c < DIM; c++) {
                float v = (float) r.nextGaussian() * 0.05f;
                for (int i = 0; i < 5; i++) v += m[layer][c * 5 + i] * z[i];
                x[c] = v;
            }
            return x;
        }
    }

    private Path bundle(boolean gated, FfnActivation act) throws IOException {
        Path gguf = TinyGguf.write(dir.resolve(gated ? "g.gguf" : "o.gguf"), gated, LAYERS, DIM, FFN, GgmlType.Q8_0, 5);
        Path out = dir.resolve(gated ? "gated" : "opt");
        Converter.convert(gguf, out, ConvertOptions.defaults().withActivation(act).withMinReadBytes(4096));
        return out;
    }

    private PredictorTraining.Result calibrate(Path bundle, Path traces, int tokens, Inputs in) {
        try (BundleModel bm = BundleModel.open(bundle, BundleOpenOptions.defaults().withSelector("dense"));
             Workers w = new Workers(2)) {
            ActivationOracle oracle = BundleOracles.open(bm);
            TraceRecorder rec = new TraceRecorder(bm.feedForward(), oracle, traces, TraceFormat.XType.F32, 32, w);
            float[] out = new float[DIM];
            float[] dense = new float[DIM];
            float[][] first = new float[LAYERS][];
            for (int t = 0; t < tokens; t++) {
                for (int l = 0; l < LAYERS; l++) {
                    float[] x = in.next(l);
                    if (t == 0) first[l] = x.clone();
                    rec.forward(l, x, out);
                    bm.feedForward().forward(l, x, dense);
                    // A second call on the stateful bundle FFN may sum its cached rows in another order: last-bit differences.
                    assertArrayEquals(dense, out, 1e-4f, "the recorder passes the FFN output through unchanged");
                }
            }
            rec.finish();
            // The first record of each layer holds the input and the oracle's true mask.
            float[] pre = new float[FFN];
            for (int l = 0; l < LAYERS; l++) {
                try (TraceReader r = TraceReader.open(traces.resolve(TraceFormat.layerFile(l)))) {
                    assertEquals(tokens, r.records());
                    float[] x = new float[DIM];
                    long[] mask = new long[2];
                    r.cursor().next(x, mask, 1);
                    assertArrayEquals(first[l], x);
                    oracle.preActivations(l, x, pre);
                    for (int j = 0; j < FFN; j++) {
                        assertEquals(oracle.fires(pre[j]), (mask[j >>> 6] & (1L << (j & 63))) != 0, "layer " + l + " neuron " + j);
                    }
                }
            }
            TrainOptions opts = TrainOptions.defaults().withRank(8).withEpochs(3).withBatchSize(64);
            return PredictorTraining.train(traces, oracle, bm.activation(), RankPlan.uniform(LAYERS, 8), opts,
                    PredictorFormat.WeightType.F32, w, null);
        }
    }

    @Test
    void gatedReluBundleCalibratesStoresAndPredictsThroughTheNeuronCache() throws IOException {
        FfnActivation act = new FfnActivation(FfnActivation.Kind.GATED_FATRELU, 0.8f);
        Path b = bundle(true, act);
        Inputs in = new Inputs(77);
        PredictorTraining.Result res = calibrate(b, dir.resolve("traces"), 900, in);
        String table = CalibrationTable.format(res.reports());
        for (var r : res.reports()) {
            assertTrue(r.recall() >= 0.99, table);
            assertTrue(r.trueFraction() > 0.03 && r.trueFraction() < 0.5, table);
            assertTrue(r.predictedFraction() < 2.5 * r.trueFraction(), table);
            assertEquals(PredictorTraining.fileBytes(DIM, FFN, 8, PredictorFormat.WeightType.F32), r.bytes());
        }
        String gen = PredictorStore.write(b, res.entries(), PredictorFormat.WeightType.F32);
        VerifyReport v = Verifier.verify(b);
        assertTrue(v.ok(), v.toString());
        Manifest m = Manifest.read(b);
        assertTrue(PredictorSet.present(m));
        assertTrue(m.file(PredictorFormat.layerFile(gen, 1)) != null);

        try (BundleModel bm = BundleModel.open(b, BundleOpenOptions.defaults().withSelector("dense"));
             PredictorSet ps = PredictorSet.open(b)) {
            assertEquals(gen, ps.generation());
            ActivationOracle oracle = BundleOracles.open(bm);
            QualitySampler sampler = new QualitySampler(oracle, 1.0, 3);
            PredictedSelector sel = new PredictedSelector(ps, sampler);
            List<FfnFile> files = new ArrayList<>();
            List<WeightTensor> gates = new ArrayList<>();
            for (int l = 0; l < LAYERS; l++) {
                files.add(FfnFile.open(b.resolve(BundleFormat.layerFile(l)), false));
                gates.add(oracle.matrices().acquire(l));
            }
            long gb = files.getFirst().layout().groupBytes();
            try (FeedForward predicted = new BundleFeedForward(files, gates, null, null, act, sel,
                    BundleFfnOptions.unlimited(FFN).withWindow(1), new IoEngine(2, (int) Math.max(gb, 1 << 16)), true)) {
                float[] p = new float[DIM];
                float[] d = new float[DIM];
                double err = 0;
                double norm = 0;
                for (int t = 0; t < 200; t++) {
                    for (int l = 0; l < LAYERS; l++) {
                        float[] x = in.next(l);
                        predicted.forward(l, x, p);
                        bm.feedForward().forward(l, x, d);
                        for (int i = 0; i < DIM; i++) {
                            err += (p[i] - d[i]) * (double) (p[i] - d[i]);
                            norm += (double) d[i] * d[i];
                        }
                    }
                }
                QualityCounters.Snapshot q = sampler.total().snapshot();
                assertEquals(400, q.samples());
                assertTrue(q.recall() > 0.97, "production recall " + q.recall());
                assertTrue(q.falseNegativeMass() < 0.02, "missed mass " + q.falseNegativeMass());
                assertTrue(Math.sqrt(err / norm) < 0.1, "relative FFN error " + Math.sqrt(err / norm));
                assertEquals(400, sel.calls().sum());
            }
            // Replaying the held-out tokens: windows only ever reduce what is read.
            WindowSimulator.Result ws = WindowSimulator.simulate(dir.resolve("traces"), LAYERS, sel, 720, 8, 8);
            assertEquals(172, ws.tokens());
            assertEquals(ws.selectedFraction(), ws.readFraction()[0], 1e-12);
            for (int k = 1; k <= 8; k++) assertTrue(ws.readFraction()[k] <= ws.readFraction()[k - 1]);
            assertTrue(ws.recall() > 0.97, "held-out recall " + ws.recall());
        }

        // Calibrating again replaces the generation; the old files go.
        String gen2 = PredictorStore.write(b, res.entries(), PredictorFormat.WeightType.F16);
        assertNotEquals(gen, gen2);
        assertFalse(Files.exists(b.resolve("predictors").resolve(gen)));
        assertTrue(Verifier.verify(b).ok());
        try (PredictorSet ps = PredictorSet.open(b)) {
            assertEquals(gen2, ps.generation());
        }
        // Q8 storage: a quarter of the bytes, same promise on held-out tokens.
        String gen3 = PredictorStore.write(b, res.entries(), PredictorFormat.WeightType.Q8);
        try (PredictorSet ps = PredictorSet.open(b)) {
            assertEquals(gen3, ps.generation());
            assertEquals(PredictorFormat.WeightType.Q8, ps.layer(0).storage());
            WindowSimulator.Result ws = WindowSimulator.simulate(dir.resolve("traces"), LAYERS, new PredictedSelector(ps, null), 720, 8, 1);
            assertTrue(ws.recall() > 0.95, "Q8 held-out recall " + ws.recall());
        }
        // A damaged predictor is caught when the bundle opens.
        Path f = b.resolve(PredictorFormat.layerFile(gen3, 0));
        byte[] bytes = Files.readAllBytes(f);
        bytes[bytes.length - 5] ^= 1;
        Files.write(f, bytes);
        assertThrows(RuntimeException.class, () -> BundleModel.open(b, BundleOpenOptions.defaults().withSelector("dense")).close());
        var e = assertThrows(PredictorException.class, () -> PredictorSet.open(b).close());
        assertTrue(e.getMessage().contains("checksum mismatch in section c"), e.getMessage());
    }

    @Test
    void optBundleCalibratesFromFc1RowsOnFlash() throws IOException {
        Path b = bundle(false, new FfnActivation(FfnActivation.Kind.RELU_NO_GATE, 0));
        PredictorTraining.Result res = calibrate(b, dir.resolve("traces-opt"), 600, new Inputs(78));
        for (var r : res.reports()) assertTrue(r.recall() >= 0.99, CalibrationTable.format(res.reports()));
        PredictorStore.write(b, res.entries(), PredictorFormat.WeightType.F32);
        assertTrue(Verifier.verify(b).ok());
        try (PredictorSet ps = PredictorSet.open(b)) {
            assertEquals(LAYERS, ps.layers());
        }
        // The loader-side factory: predictors from the manifest, sampler over fc1 rows read from flash.
        Inputs in = new Inputs(78);
        for (int t = 0; t < 600; t++) for (int l = 0; l < LAYERS; l++) in.next(l); // past the calibration tokens
        try (BundleModel bm = BundleModel.open(b, BundleOpenOptions.defaults().withSelector("dense"));
             PredictedSelector sel = PredictedSelectors.open(b, bm.manifest(), bm.activation(),
                     name -> bm.gguf().tensor(name), null, 1.0)) {
            io.flashllm.flashstore.select.Selection s = new io.flashllm.flashstore.select.Selection(FFN);
            for (int t = 0; t < 100; t++) {
                for (int l = 0; l < LAYERS; l++) {
                    s.clear();
                    sel.select(l, in.next(l), s);
                }
            }
            QualityCounters.Snapshot q = sel.sampler().total().snapshot();
            assertEquals(200, q.samples());
            assertTrue(q.recall() > 0.95, "OPT production recall " + q.recall());
        }
    }

    @Test
    void oneCallCalibrationRecordsTrainsStoresAndCleansUp() throws IOException {
        Path b = bundle(true, new FfnActivation(FfnActivation.Kind.GATED_FATRELU, 0.8f));
        Inputs in = new Inputs(79);
        Path traces = dir.resolve("t1");
        BundleCalibration.Options o = new BundleCalibration.Options(RankPlan.uniform(LAYERS, 8),
                TrainOptions.defaults().withRank(8).withEpochs(2), PredictorFormat.WeightType.Q8, TraceFormat.XType.F16, traces, false, 2);
        BundleCalibration.Result r = BundleCalibration.run(b, o, (bundle, ffn) -> {
            float[] out = new float[DIM];
            for (int t = 0; t < 500; t++) for (int l = 0; l < LAYERS; l++) ffn.forward(l, in.next(l), out);
        }, null);
        assertEquals(LAYERS, r.training().reports().size());
        for (var rep : r.training().reports()) assertTrue(rep.recall() >= 0.99, CalibrationTable.format(r.training().reports()));
        assertFalse(Files.exists(traces), "traces are deleted unless kept");
        // The held-out window sweep: exact reads every active neuron at k = 0 and less with any window; the predictors
        // read what they select at k = 0, at least the truly active share they catch.
        var rep0 = r.training().reports().getFirst();
        WindowSimulator.Result pw = r.predictedWindows();
        WindowSimulator.Result ew = r.exactWindows();
        assertEquals(rep0.heldOutTokens() - BundleCalibration.SWEEP_MAX_WINDOW, pw.tokens());
        assertEquals(pw.tokens(), ew.tokens());
        assertEquals(BundleCalibration.SWEEP_MAX_WINDOW + 1, pw.readFraction().length);
        assertEquals(1.0, ew.recall(), 1e-12);
        assertEquals(ew.trueFraction(), ew.readFraction()[0], 1e-12);
        assertEquals(pw.selectedFraction(), pw.readFraction()[0], 1e-12);
        assertTrue(pw.recall() > 0.9 && pw.selectedFraction() >= pw.recall() * ew.trueFraction() - 1e-9, pw.toString());
        for (int k = 1; k < pw.readFraction().length; k++) {
            assertTrue(pw.readFraction()[k] <= pw.readFraction()[k - 1] && ew.readFraction()[k] <= ew.readFraction()[k - 1],
                    "reads never grow with the window: " + CalibrationTable.formatWindows(pw, ew));
        }
        assertTrue(ew.readFraction()[1] < ew.readFraction()[0], CalibrationTable.formatWindows(pw, ew));
        assertTrue(Verifier.verify(b).ok());
        try (PredictorSet ps = PredictorSet.open(b)) {
            assertEquals(r.generation(), ps.generation());
            assertEquals(PredictorFormat.WeightType.Q8, ps.layer(1).storage());
        }
        var e = assertThrows(PredictorException.class, () -> BundleCalibration.run(b,
                new BundleCalibration.Options(RankPlan.uniform(3, 8), TrainOptions.defaults(), PredictorFormat.WeightType.Q8,
                        TraceFormat.XType.F16, null, false, 1), (bundle, ffn) -> {}, null));
        assertTrue(e.getMessage().contains("rank plan covers 3 layers"), e.getMessage());
    }

    @Test
    void bundleWithoutPredictorsSaysHowToMakeThem() throws IOException {
        Path b = bundle(true, new FfnActivation(FfnActivation.Kind.GATED_RELU, 0));
        var e = assertThrows(PredictorException.class, () -> PredictorSet.open(b));
        assertTrue(e.getMessage().contains("flashllm calibrate"), e.getMessage());
        var w = assertThrows(PredictorException.class, () -> PredictorStore.write(b, List.of(), PredictorFormat.WeightType.F32));
        assertTrue(w.getMessage().contains("0 predictors for a model with 2 layers"), w.getMessage());
    }
}
