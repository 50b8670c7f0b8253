package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.flashstore.io.IoEngine;
import io.flashllm.flashstore.select.DenseSelector;
import io.flashllm.flashstore.select.GateExactSelector;
import io.flashllm.flashstore.select.NeuronSelector;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bundle-mode FFN output against the plain FFN computed from the source model, for the dense and
 * gate-exact selectors, with a cache large enough for everything and with one so small that
 * neurons are evicted and streamed. Tolerance: see {@link ReferenceFfn}.
 */
class BundleFeedForwardTest {
    @TempDir
    Path tmp;

    static final FfnActivation RELU = new FfnActivation(FfnActivation.Kind.GATED_RELU, 0);
    static final FfnActivation SILU = new FfnActivation(FfnActivation.Kind.GATED_SILU, 0);

    static List<GgmlType> types() {
        return TinyModel.ffnTypes();
    }

    @ParameterizedTest
    @MethodSource("types")
    void gateExactAndDenseMatchPlainFfn(GgmlType type) throws IOException {
        TinyModel tm = new TinyModel(2, 64, 128, type, true, 11);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = tmp.resolve("b");
        Converter.convert(src, out, ConvertOptions.defaults().withActivation(RELU).withMinReadBytes(8192));
        for (String sel : List.of("gate-exact", "dense")) {
            try (BundleModel bm = BundleModel.open(out, BundleOpenOptions.defaults().withSelector(sel));
                 GgufFile g = GgufFile.open(src)) {
                assertEquals(sel, bm.feedForward().selector().name());
                runTokens(bm.feedForward(), g, RELU, type.quantized(), 6, 64);
                long lookups = bm.feedForward().counters(0).lookups();
                if (sel.equals("dense")) assertEquals(6 * 128, lookups);
                else assertTrue(lookups < 6 * 128 && lookups > 0, "gate-exact selects a subset: " + lookups);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("types")
    void tinyCacheEvictsAndStreamsButStaysExact(GgmlType type) throws IOException {
        TinyModel tm = new TinyModel(2, 64, 128, type, true, 5);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = tmp.resolve("b");
        Converter.convert(src, out, ConvertOptions.defaults().withActivation(SILU).withMinReadBytes(4096));
        for (NeuronSelector sel : List.of(new DenseSelector())) {
            try (GgufFile g = GgufFile.open(src);
                 BundleFeedForward ffn = openDirect(out, SILU, null, sel,
                         BundleFfnOptions.unlimited(128).withCache(40, 8).withStreamRows(16).withHotWarmup(2).withWindow(2))) {
                runTokens(ffn, g, SILU, type.quantized(), 8, 64);
                assertEquals(40, ffn.cache(0).used(), "dense fills the cache");
                assertEquals(8, ffn.cache(0).hotCount(), "hot region chosen after warm-up");
                assertTrue(ffn.counters(0).neuronsLoaded() > 128, "streamed neurons are read again each token");
            }
        }
    }

    @Test
    void gateExactWithSmallCacheAndWindow() throws IOException {
        TinyModel tm = new TinyModel(1, 64, 256, GgmlType.Q8_0, true, 9);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = tmp.resolve("b");
        Converter.convert(src, out, ConvertOptions.defaults().withActivation(RELU).withMinReadBytes(4096));
        try (GgufFile g = GgufFile.open(src); GgufFile res = GgufFile.open(out.resolve(BundleFormat.RESIDENT_GGUF))) {
            List<WeightTensor> gates = List.of(res.tensor("blk.0.ffn_gate.weight"));
            try (BundleFeedForward ffn = openDirect(out, RELU, gates, new GateExactSelector(gates, RELU),
                    BundleFfnOptions.unlimited(256).withCache(100, 0).withStreamRows(7).withWindow(3))) {
                runTokens(ffn, g, RELU, true, 10, 64);
                assertTrue(ffn.counters(0).hits() > 0, "window reuse gives hits");
            }
        }
    }

    @Test
    void optStyleUngatedWithBiases() throws IOException {
        TinyModel tm = new TinyModel(2, 64, 96, GgmlType.F16, false, 13);
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = tmp.resolve("b");
        ConvertReport rep = Converter.convert(src, out, ConvertOptions.defaults().withMinReadBytes(4096));
        assertFalse(rep.gateResident());
        FfnActivation relu = new FfnActivation(FfnActivation.Kind.RELU_NO_GATE, 0);
        try (BundleModel bm = BundleModel.open(out, BundleOpenOptions.defaults()); GgufFile g = GgufFile.open(src)) {
            assertEquals("dense", bm.feedForward().selector().name());
            assertEquals(relu, bm.activation());
            runTokens(bm.feedForward(), g, relu, false, 4, 64);
        }
    }

    static BundleFeedForward openDirect(Path out, FfnActivation act, List<WeightTensor> gates, NeuronSelector sel,
                                        BundleFfnOptions o) {
        Manifest m = Manifest.read(out);
        List<FfnFile> files = new ArrayList<>();
        for (String f : m.layout().layerFiles()) files.add(FfnFile.open(out.resolve(f), true));
        return new BundleFeedForward(files, gates, null, null, act, sel, o, new IoEngine(4, 1 << 20), true);
    }

    static void runTokens(BundleFeedForward ffn, GgufFile src, FfnActivation act, boolean q8Down, int tokens, int dim) {
        Random r = new Random(42);
        float[] out = new float[dim];
        for (int t = 0; t < tokens; t++) {
            for (int l = 0; l < ffn.layers(); l++) {
                float[] x = TinyModel.gaussian(r, dim, 1f);
                ffn.forward(l, x, out);
                ReferenceFfn ref = ReferenceFfn.compute(src, l, act, x, q8Down);
                for (int i = 0; i < dim; i++) {
                    assertEquals(ref.out[i], out[i], ref.tolerance[i], "token " + t + " layer " + l + " output " + i);
                }
            }
        }
    }
}
