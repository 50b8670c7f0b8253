package io.flashllm.kernels.cpu;

import io.flashllm.kernels.GgmlType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scalar fallback says so: run by the default surefire execution (vector kernels, no warning)
 * and by the 128-bit one (scalar kernels, one warning naming the width and what to use instead).
 */
class ScalarFallbackWarningTest {
    /** Records what is logged. */
    private static final class Recording implements System.Logger {
        final List<String> warnings = new ArrayList<>();

        @Override
        public String getName() {
            return "recording";
        }

        @Override
        public boolean isLoggable(Level level) {
            return true;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            if (level == Level.WARNING) warnings.add(msg);
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            if (level == Level.WARNING) warnings.add(format);
        }
    }

    @Test
    void warnsExactlyWhenTheScalarKernelsRun() {
        Recording log = new Recording();
        boolean warned = RowKernel.warnIfScalar(log);
        boolean scalar = RowKernel.forType(GgmlType.Q8_0) instanceof ScalarKernel;
        assertEquals(scalar, warned, "warned " + warned + " with scalar kernels " + scalar);
        assertEquals(scalar ? 1 : 0, log.warnings.size(), log.warnings.toString());
        if (scalar) {
            String w = log.warnings.get(0);
            assertTrue(w.contains(Simd.F.vectorBitSize() + " bits") && w.contains("AVX2") && w.contains("scalar fallback"), w);
        }
    }
}
