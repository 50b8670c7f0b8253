package io.flashllm.engine.model;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthArch;
import io.flashllm.engine.synth.SynthFormat;
import io.flashllm.engine.synth.SynthSpec;
import io.flashllm.engine.synth.SynthType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The engine's side of a device backend, with a stand-in device that runs a second CPU copy of the
 * model: every step goes to the device, the first token is cross-checked, a disagreeing device is
 * switched off with an error and the model refuses new sequences instead of falling back.
 */
class DeviceWiringTest {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void synth() throws IOException {
        model = dir.resolve("tiny.gguf");
        Synth.synthesize(new SynthSpec(SynthArch.LLAMA, 64, 2, 4, 2, 128, 400, SynthType.F16, SynthFormat.GGUF,
                5, null, 32, null), model, 1);
    }

    /** A "device" that is the CPU forward pass of another copy of the model, its logits scaled by {@code factor}. */
    private static final class CpuDevice implements DeviceBackend {
        final LanguageModel twin;
        final float factor;
        int steps;
        int released;

        CpuDevice(float factor) {
            this.twin = ModelLoader.loadLanguageModel(model, new LoadOptions(1, 0, null));
            this.factor = factor;
        }

        @Override public String name() { return "twin"; }
        @Override public String unavailableReason() { return null; }
        @Override public String unsupportedReason(LanguageModel m) { return null; }

        @Override
        public void release(LanguageModel m) {
            released++;
        }

        @Override
        public DeviceForward open(LanguageModel m, int contextLength) {
            Transformer t = twin.newTransformer(contextLength);
            float[] out = new float[m.config().vocabSize()];
            return new DeviceForward() {
                @Override public String device() { return "twin cpu"; }

                @Override
                public float[] forward(int token, int pos) {
                    steps++;
                    float[] l = t.forward(token, pos);
                    for (int i = 0; i < out.length; i++) out[i] = l[i] * factor;
                    return out;
                }

                @Override public void close() { t.close(); }
            };
        }
    }

    @Test
    void everyStepRunsOnTheDeviceAndMatchesTheCpu() {
        CpuDevice dev = new CpuDevice(1f);
        try (LanguageModel lm = ModelLoader.loadLanguageModel(model, new LoadOptions(1, 0, null));
             LanguageModel cpu = ModelLoader.loadLanguageModel(model, new LoadOptions(1, 0, null))) {
            lm.useDevice(dev);
            int[] prompt = {1, 17, 42, 99, 7};
            try (Transformer t = lm.newTransformer(32); Transformer c = cpu.newTransformer(32)) {
                float[] a = t.forward(prompt, 0, prompt.length, 0).clone();
                float[] b = c.forward(prompt, 0, prompt.length, 0);
                assertEquals(prompt.length, dev.steps, "each prompt token is one device step");
                assertTrue(DeviceCheck.relativeError(b, a, a.length) < 1e-5f);
                a = t.forward(3, prompt.length).clone();
                b = c.forward(3, prompt.length);
                assertEquals(prompt.length + 1, dev.steps);
                assertTrue(DeviceCheck.relativeError(b, a, a.length) < 1e-5f);
                assertEquals("twin cpu", t.backend());
            }
            assertEquals(0, dev.released);
        } finally {
            assertEquals(1, dev.released, "closing the model releases what the backend kept for it");
            dev.twin.close();
        }
    }

    /**
     * A device sequence's CPU cache serves only the first token's cross-check, against a device that
     * keeps F32 keys and values: it is F32 too, whatever the model's KV type, while CPU sequences keep
     * the model's type.
     */
    @Test
    void theCrossCheckRunsTheCpuWithAnF32Cache() {
        try (LanguageModel lm = ModelLoader.loadLanguageModel(model,
                new LoadOptions(1, 0, null, null, KvCacheType.F16))) {
            long f16;
            try (Transformer t = lm.newTransformer(32)) {
                f16 = t.kvCacheBytes();
                assertTrue(t.kvInHostMemory());
            }
            lm.useDevice(new CpuDevice(1f));
            try (Transformer t = lm.newTransformer(32)) {
                assertEquals(2 * f16, t.kvCacheBytes());
                t.forward(1, 0);
                // The sequence's keys and values are the device's: a server cannot save them to flash.
                assertFalse(t.kvInHostMemory());
                assertThrows(IllegalStateException.class, t::kvCache);
            }
        }
    }

    @Test
    void aDisagreeingDeviceIsSwitchedOffWithAnError() {
        CpuDevice dev = new CpuDevice(1.5f);
        try (LanguageModel lm = ModelLoader.loadLanguageModel(model, new LoadOptions(1, 0, null))) {
            lm.useDevice(dev);
            try (Transformer t = lm.newTransformer(32)) {
                DeviceMismatchException e = assertThrows(DeviceMismatchException.class, () -> t.forward(1, 0));
                assertTrue(e.getMessage().contains("disagrees with the CPU"), e.getMessage());
            }
            assertNull(lm.device());
            assertThrows(DeviceMismatchException.class, () -> lm.newTransformer(32), "no silent fallback to the CPU");
        } finally {
            dev.twin.close();
        }
    }

    @Test
    void verifyingAtLoadRunsOneCheckedTokenAndFailsOnAMismatch() {
        CpuDevice good = new CpuDevice(1f), bad = new CpuDevice(1.5f);
        try (LanguageModel a = ModelLoader.loadLanguageModel(model, new LoadOptions(1, 0, null));
             LanguageModel b = ModelLoader.loadLanguageModel(model, new LoadOptions(1, 0, null))) {
            a.useDevice(good);
            a.verifyDevice();
            assertEquals(1, good.steps);
            assertSame(good, a.device());
            b.useDevice(bad);
            assertThrows(DeviceMismatchException.class, b::verifyDevice);
            assertNull(b.device());
        } finally {
            good.twin.close();
            bad.twin.close();
        }
    }

    @Test
    void anAbsentBackendSaysHowToGetIt() {
        assertNull(DeviceBackend.require("cpu"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> DeviceBackend.require("tornado"));
        assertTrue(e.getMessage().contains("GPU (TornadoVM)"), e.getMessage());
        assertTrue(e.getMessage().contains("TORNADOVM_HOME"), e.getMessage());
        e = assertThrows(IllegalStateException.class,
                () -> ModelLoader.loadLanguageModel(model, new LoadOptions(1, 0, null).withBackend("Tornado")));
        assertTrue(e.getMessage().contains("backend 'tornado' is not available"), e.getMessage());
    }

    @Test
    void relativeErrorCountsNanAsAMismatch() {
        assertEquals(0f, DeviceCheck.relativeError(new float[] {1, 2}, new float[] {1, 2}, 2));
        assertEquals(0.25f, DeviceCheck.relativeError(new float[] {4, 2}, new float[] {4, 3}, 2), 1e-6f);
        assertEquals(Float.POSITIVE_INFINITY, DeviceCheck.relativeError(new float[] {1}, new float[] {Float.NaN}, 1));
    }
}
