package io.flashllm.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.flashstore.budget.RuntimeOverhead;
import io.flashllm.flashstore.bundle.BundleFfnOptions;
import io.flashllm.flashstore.bundle.BundleOpenOptions;
import org.junit.jupiter.api.Test;

/** The one place CLI options and server settings become bundle options. */
class FlashBundleOptionsTest {
    @Test
    void unsetValuesKeepTheDefaults() {
        BundleOpenOptions d = BundleOpenOptions.defaults();
        assertEquals(d, FlashBundleOptions.of(null, null, null, true, null));
        assertEquals(d, FlashBundleOptions.of(" ", null, "", true, " "));
    }

    @Test
    void valuesPassThrough() {
        BundleOpenOptions o = FlashBundleOptions.of("600M", 3, " predicted ", false, "0.25");
        assertEquals(600L << 20, o.memoryBudget());
        assertEquals(3, o.window());
        assertEquals("predicted", o.selector());
        assertFalse(o.preferDirect());
        assertEquals(0.25, o.predictorSampleRate());
        assertEquals(0, o.ioDepth(), "automatic unless set");
        assertEquals(64, FlashBundleOptions.of(null, null, null, true, null, 64).ioDepth());
    }

    @Test
    void theServerSetsAsideItsLargerRuntimeShare() {
        assertEquals(RuntimeOverhead.forThisJvm(false), FlashBundleOptions.of("600M", null, null, true, null).overheadBytes());
        assertEquals(RuntimeOverhead.forThisJvm(true),
                FlashBundleOptions.of("600M", null, null, true, null, null, true).overheadBytes());
        assertTrue(RuntimeOverhead.forThisJvm(true) > RuntimeOverhead.forThisJvm(false));
    }

    @Test
    void ioDepthOutOfRangeNamesTheSetting() {
        for (int bad : new int[] {0, -3, 1025}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> FlashBundleOptions.of(null, null, null, true, null, bad));
            assertTrue(e.getMessage().startsWith("io-depth: "), e.getMessage());
        }
    }

    @Test
    void prefetchGuessesPassThroughAndAreChecked() {
        assertEquals(BundleFfnOptions.DEFAULT_PREFETCH_GUESSES, BundleOpenOptions.defaults().prefetchGuesses());
        assertEquals(BundleFfnOptions.DEFAULT_PREFETCH_GUESSES,
                FlashBundleOptions.of(null, null, null, true, null, null, true, null).prefetchGuesses());
        assertEquals(0, FlashBundleOptions.of(null, null, null, true, null, null, true, 0).prefetchGuesses());
        assertEquals(64, FlashBundleOptions.of(null, null, null, true, null, null, true, 64).prefetchGuesses());
        for (int bad : new int[] {-1, BundleOpenOptions.MAX_PREFETCH_GUESSES + 1}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> FlashBundleOptions.of(null, null, null, true, null, null, false, bad));
            assertTrue(e.getMessage().startsWith("prefetch-guesses: "), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> BundleOpenOptions.defaults().withPrefetchGuesses(-1));
    }

    @Test
    void badValuesNameTheSetting() {
        String[][] cases = {{"memory-budget", "lots", null, null}, {"window", null, "-1", null},
                {"predictor-sample-rate", null, null, "2"}, {"predictor-sample-rate", null, null, "-1"},
                {"predictor-sample-rate", null, null, "often"}, {"predictor-sample-rate", null, null, "NaN"}};
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FlashBundleOptions.of(
                    c[1], c[2] == null ? null : Integer.valueOf(c[2]), null, true, c[3]));
            assertTrue(e.getMessage().startsWith(c[0] + ": "), e.getMessage());
        }
    }
}
