package io.flashllm.engine;

import io.flashllm.engine.model.KvCacheType;
import io.flashllm.engine.testutil.TestVocab;
import io.flashllm.engine.testutil.TinyModels;
import io.flashllm.engine.testutil.TinySpec;
import io.flashllm.flashstore.bundle.BundleOpenOptions;
import io.flashllm.flashstore.bundle.ConvertOptions;
import io.flashllm.flashstore.bundle.Converter;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ModelLoader#withKvCacheBudget}: a KV cache per session, from the shape in the bundle's resident file. */
class KvCacheBudgetTest {
    @TempDir
    Path dir;

    @Test
    void kvCacheCountsFromGgufAndHfBundles() throws Exception {
        TinySpec spec = TinySpec.reluLlama(GgmlType.F16, "relu", 0f);
        ConvertOptions convert = ConvertOptions.defaults()
                .withActivation(new FfnActivation(FfnActivation.Kind.GATED_RELU, 0f)).withMinReadBytes(4096);
        Path gguf = new TinyModels(spec).writeGguf(dir.resolve("m.gguf"), TestVocab.spm(320));
        Path hf = new TinyModels(spec).writeHf(dir.resolve("hf"), null);
        Path fromGguf = dir.resolve("gguf.bundle");
        Path fromHf = dir.resolve("hf.bundle");
        Converter.convert(gguf, fromGguf, convert);
        Converter.convert(hf, fromHf, convert);

        LoadOptions opts = LoadOptions.defaults().withMaxContext(48);
        BundleOpenOptions budget = BundleOpenOptions.defaults().withMemoryBudget(1L << 30, 0);
        // layers * context (48, under the model's 64) * kvHeads * headDim, for K and V.
        long expected = 2L * spec.layers() * 48 * spec.kvHeads() * spec.headDim() * 2; // F16
        assertEquals(KvCacheType.F16, opts.kvCacheType());
        for (Path bundle : new Path[] {fromGguf, fromHf}) {
            BundleOpenOptions b = ModelLoader.withKvCacheBudget(budget, bundle, opts);
            assertEquals(expected, b.kvCacheBytes(), bundle.toString());
            assertEquals(1L << 30, b.memoryBudget());
        }
        // A server's four slots each open a session with the full context: four KV caches.
        assertEquals(4 * expected, ModelLoader.withKvCacheBudget(budget, fromGguf, opts.withSessions(4)).kvCacheBytes());
        assertEquals(4, opts.withSessions(4).withThreads(1).withMaxContext(8).withBundle(budget).sessions(),
                "the other with-methods keep the session count");
        assertThrows(IllegalArgumentException.class, () -> opts.withSessions(0));
        // No budget, or a KV size given: left as it is.
        BundleOpenOptions none = BundleOpenOptions.defaults();
        assertSame(none, ModelLoader.withKvCacheBudget(none, fromGguf, opts));
        BundleOpenOptions given = budget.withMemoryBudget(1L << 30, 123);
        assertSame(given, ModelLoader.withKvCacheBudget(given, fromGguf, opts));
        // A Q8_0 cache stores heads as blocks of 32 values; this model's heads have 16: refused with a way out.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelLoader.withKvCacheBudget(budget, fromGguf, opts.withKvCacheType(KvCacheType.Q8_0)));
        assertTrue(e.getMessage().contains("heads have 16") && e.getMessage().contains("--kv-type f16"), e.getMessage());
    }
}
