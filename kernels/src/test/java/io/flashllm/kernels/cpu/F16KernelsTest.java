package io.flashllm.kernels.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static io.flashllm.kernels.cpu.Simd.SHORT_LE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Both F16 kernels, whichever this CPU gets from {@link RowKernel#forType}: each against
 * {@link Float#float16ToFloat} (every bit pattern, bit for bit) and against a scalar sum in double
 * precision over rows of realistic weights, where ~0.2% of the halves are subnormal.
 */
class F16KernelsTest {
    private static final List<RowKernel> KERNELS = List.of(new F16Kernel(), new F16MultiplyKernel());

    @Test
    void everyBitPatternWidensExactly() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(2 * 65536);
            for (int h = 0; h < 65536; h++) s.set(SHORT_LE, 2L * h, (short) h);
            for (RowKernel k : KERNELS) {
                // Rows of 65536 (whole buffered chunks), 1000 (vector loop and a scalar tail), 7 (tail only).
                for (int cols : new int[]{65536, 1000, 7}) {
                    float[] got = new float[65536];
                    for (int r = 0; r < 65536 / cols; r++) k.dequant(s, 2L * r * cols, cols, got, r * cols);
                    for (int h = 0; h < 65536 / cols * cols; h++) {
                        float e = Float.float16ToFloat((short) h);
                        int at = h;
                        if (Float.isNaN(e)) { // the intrinsic (vcvtph2ps) quiets signalling NaNs; a NaN is a NaN
                            assertTrue(Float.isNaN(got[h]), () -> name(k) + " cols " + cols + ": half 0x" + Integer.toHexString(at) + " is NaN");
                            continue;
                        }
                        int expected = Float.floatToRawIntBits(e);
                        int actual = Float.floatToRawIntBits(got[h]);
                        assertEquals(expected, actual, () -> name(k) + " cols " + cols + ": half 0x" + Integer.toHexString(at)
                                + " -> 0x" + Integer.toHexString(actual) + ", expected 0x" + Integer.toHexString(expected));
                    }
                }
            }
        }
    }

    @Test
    void productsMatchADoubleSumOverRealisticWeights() {
        Random rnd = new Random(7);
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[]{64, 100, 1024, 2051, 4096}) {
                int rows = 4;
                MemorySegment s = arena.allocate(2L * rows * cols);
                int subnormals = 0;
                for (int i = 0; i < rows * cols; i++) {
                    short h = Float.floatToFloat16((float) (rnd.nextGaussian() * 0.02));
                    if ((h & 0x7c00) == 0) subnormals++;
                    s.set(SHORT_LE, 2L * i, h);
                }
                if (cols >= 1024) assertTrue(subnormals > 0, "the rows should hold subnormal halves");
                float[] x = new float[cols];
                for (int c = 0; c < cols; c++) x[c] = (float) rnd.nextGaussian();
                for (RowKernel k : KERNELS) {
                    float[] four = new float[4];
                    k.dot4(s, 0, 2L * cols, 4L * cols, 6L * cols, cols, x, 0, null, four, 0);
                    for (int r = 0; r < rows; r++) {
                        double expected = 0, magnitude = 0;
                        for (int c = 0; c < cols; c++) {
                            double w = Float.float16ToFloat(s.get(SHORT_LE, 2L * (r * cols + c)));
                            expected += w * x[c];
                            magnitude += Math.abs(w * x[c]);
                        }
                        double tolerance = 1e-5 * magnitude;
                        String what = name(k) + " row " + r + " of " + cols + " columns";
                        assertEquals(expected, four[r], tolerance, what + " (dot4)");
                        assertEquals(expected, k.dot(s, 2L * r * cols, cols, x, 0), tolerance, what + " (dot)");
                        float[] acc = new float[cols];
                        Arrays.fill(acc, 1f);
                        k.axpy(s, 2L * r * cols, cols, -0.5f, acc, 0);
                        for (int c = 0; c < cols; c++) {
                            float w = Float.float16ToFloat(s.get(SHORT_LE, 2L * (r * cols + c)));
                            assertEquals(Math.fma(-0.5f, w, 1f), acc[c], Math.ulp(1f), what + " (axpy) at " + c);
                        }
                    }
                }
            }
        }
    }

    @Test
    void anInfiniteWeightMakesAnInfiniteProduct() {
        try (Arena arena = Arena.ofConfined()) {
            int cols = 2048;
            MemorySegment s = arena.allocate(2L * 4 * cols);
            for (int i = 0; i < 4 * cols; i++) s.set(SHORT_LE, 2L * i, Float.floatToFloat16(0.01f));
            s.set(SHORT_LE, 2L * 700, (short) 0x7c00);                 // +inf in row 0
            s.set(SHORT_LE, 2L * (cols + 1500), (short) 0xfc00);       // -inf in row 1
            s.set(SHORT_LE, 2L * (2 * cols + 3), (short) 0x7e01);      // NaN in row 2
            float[] x = new float[cols];
            Arrays.fill(x, 1f);
            for (RowKernel k : KERNELS) {
                float[] out = new float[4];
                k.dot4(s, 0, 2L * cols, 4L * cols, 6L * cols, cols, x, 0, null, out, 0);
                assertEquals(Float.POSITIVE_INFINITY, out[0], name(k));
                assertEquals(Float.NEGATIVE_INFINITY, out[1], name(k));
                assertTrue(Float.isNaN(out[2]), name(k));
                assertEquals(20.48f, out[3], 0.01f, name(k));
            }
        }
    }

    @Test
    void theVendorDecidesUnlessThePropertySays(@TempDir Path dir) throws IOException {
        Path intel = Files.writeString(dir.resolve("intel"), "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n");
        Path amd = Files.writeString(dir.resolve("amd"), "processor\t: 0\nvendor_id\t: AuthenticAMD\n");
        Path arm = Files.writeString(dir.resolve("arm"), "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n");
        assertEquals("GenuineIntel", CpuVendor.read(intel));
        assertEquals("AuthenticAMD", CpuVendor.read(amd));
        assertEquals("", CpuVendor.read(arm));
        assertEquals("", CpuVendor.read(dir.resolve("missing")));

        String before = System.getProperty("flashllm.f16.widen");
        try {
            System.setProperty("flashllm.f16.widen", "buffer");
            assertInstanceOf(F16Kernel.class, RowKernel.f16Kernel());
            System.setProperty("flashllm.f16.widen", "multiply");
            assertInstanceOf(F16MultiplyKernel.class, RowKernel.f16Kernel());
            System.setProperty("flashllm.f16.widen", "fast");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, RowKernel::f16Kernel);
            assertTrue(e.getMessage().contains("multiply or buffer"), e.getMessage());
            System.clearProperty("flashllm.f16.widen");
            Class<? extends RowKernel> expected = CpuVendor.isIntel() ? F16Kernel.class : F16MultiplyKernel.class;
            assertEquals(expected, RowKernel.f16Kernel().getClass());
        } finally {
            if (before == null) System.clearProperty("flashllm.f16.widen");
            else System.setProperty("flashllm.f16.widen", before);
        }
    }

    private static String name(RowKernel k) {
        return k.getClass().getSimpleName();
    }
}
