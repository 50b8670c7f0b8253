package io.flashllm.engine;

import io.flashllm.engine.model.Architecture;
import io.flashllm.engine.model.KvCacheType;
import io.flashllm.engine.model.ModelConfig;
import io.flashllm.engine.model.RopeConfig;
import io.flashllm.engine.model.RopeStyle;
import io.flashllm.flashstore.ModelFileException;
import io.flashllm.flashstore.bundle.BundleOpenOptions;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.ffn.FfnActivation.Kind;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoadOptionsTest {
    static final Path FILE = Path.of("m.gguf");

    static ModelConfig llama(FfnActivation act) {
        return new ModelConfig(Architecture.LLAMA, "m", 64, 2, 128, 4, 2, 16, 320, 4096, 1e-5f,
                new RopeConfig(RopeStyle.INTERLEAVED, 1e4f, 16, 1f, null), act, true, 64, 0, 0);
    }

    @Test
    void validation() {
        assertThrows(IllegalArgumentException.class, () -> new LoadOptions(0, 0, null));
        assertThrows(IllegalArgumentException.class, () -> new LoadOptions(1, -1, null));
        assertThrows(IllegalArgumentException.class, () -> new LoadOptions(1, 0, -0.5f));
        assertThrows(IllegalArgumentException.class, () -> new LoadOptions(1, 0, Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> LoadOptions.defaults().withActivation("gelu"));
        LoadOptions o = new LoadOptions(2, 512, null);
        assertEquals(KvCacheType.F16, o.kvCacheType());
        assertEquals(BundleOpenOptions.defaults(), o.bundle());
        assertEquals("relu", o.withActivation("ReLU").activation());
    }

    @Test
    void contextCapAndActivationOverrides() {
        ModelConfig relu = llama(new FfnActivation(Kind.GATED_RELU, 0f));
        ModelConfig c = ModelLoader.applyOptions(relu, new LoadOptions(1, 512, 0.25f), FILE);
        assertEquals(512, c.contextLength());
        assertEquals(new FfnActivation(Kind.GATED_FATRELU, 0.25f), c.activation());
        assertEquals(4096, ModelLoader.applyOptions(relu, new LoadOptions(1, 0, null), FILE).contextLength());
        assertEquals(4096, ModelLoader.applyOptions(relu, new LoadOptions(1, 8192, null), FILE).contextLength());

        ModelConfig silu = llama(new FfnActivation(Kind.GATED_SILU, 0f));
        ModelFileException e = assertThrows(ModelFileException.class,
                () -> ModelLoader.applyOptions(silu, new LoadOptions(1, 0, 0.1f), FILE));
        assertTrue(e.getMessage().contains("FATReLU threshold"), e.getMessage());
        // A SiLU model run with ReLU (e.g. to measure what ReLU-fication would give) is the user's call.
        assertEquals(Kind.GATED_RELU,
                ModelLoader.applyOptions(silu, LoadOptions.defaults().withActivation("relu"), FILE).activation().kind());
        assertEquals(new FfnActivation(Kind.GATED_FATRELU, 0.3f), ModelLoader.applyOptions(silu,
                LoadOptions.defaults().withActivation("relu").withFatreluThreshold(0.3f), FILE).activation());
    }

    @Test
    void longRopeLoadsForTheContextThatRuns() {
        // A 128k LongRoPE model (original 4k): without a cap asked for it runs 4,096 positions, so it is loaded
        // for them (the short factors); asked for more, for that many (the long ones).
        ModelConfig base = llama(new FfnActivation(Kind.GATED_SILU, 0f));
        ModelConfig phi = new ModelConfig(io.flashllm.engine.model.Architecture.PHI3, "phi", base.dim(), base.layers(),
                base.ffnDim(), base.heads(), base.kvHeads(), base.headDim(), base.vocabSize(), 131072, base.normEps(),
                new io.flashllm.engine.model.RopeConfig(io.flashllm.engine.model.RopeStyle.HALF_SPLIT, 10000f,
                        base.headDim(), 1f, null, 1.19f, 4096),
                base.activation(), true, base.dim(), 0, 0);
        assertEquals(4096, ModelLoader.applyOptions(phi, new LoadOptions(1, 0, null), FILE).contextLength());
        assertEquals(16384, ModelLoader.applyOptions(phi, new LoadOptions(1, 16384, null), FILE).contextLength());
        assertEquals(131072, ModelLoader.applyOptions(base.withContextLength(131072), new LoadOptions(1, 0, null), FILE)
                .contextLength(), "other models keep their context");
    }

    @Test
    void bundleGetsTheActivationOverride() {
        assertNull(ModelLoader.bundleOptions(LoadOptions.defaults()).activation());
        assertEquals(new FfnActivation(Kind.GATED_FATRELU, 0.2f),
                ModelLoader.bundleOptions(LoadOptions.defaults().withFatreluThreshold(0.2f)).activation());
        assertEquals(Kind.GATED_RELU, ModelLoader.bundleOptions(LoadOptions.defaults().withActivation("relu")).activation().kind());
    }
}
