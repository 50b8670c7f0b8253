package io.flashllm.predictor.math;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class VecTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void dotAndAxpyMatchScalarLoopsAtEveryLengthAndOffset() {
        Random r = new Random(1);
        for (int n = 0; n < 70; n++) {
            for (int off : new int[] {0, 3}) {
                float[] a = new float[n + off + 5];
                float[] b = new float[n + off + 5];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) r.nextGaussian();
                    b[i] = (float) r.nextGaussian();
                }
                double want = 0;
                for (int i = 0; i < n; i++) want += (double) a[off + i] * b[2 + i];
                assertEquals(want, Vec.dot(a, off, b, 2, n), 1e-4 * (1 + Math.sqrt(n)), "n=" + n);

                float[] y = b.clone();
                float[] expect = b.clone();
                for (int i = 0; i < n; i++) expect[1 + i] += 0.75f * a[off + i];
                Vec.axpy(0.75f, a, off, y, 1, n);
                assertArrayEquals(expect, y, 1e-5f);
            }
        }
    }

    @Test
    void segmentDotMatchesScalarLoop() {
        Random r = new Random(2);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : new int[] {1, 7, 16, 33, 128, 257}) {
                MemorySegment s = arena.allocate(4L * n + 12);
                float[] x = new float[n + 1];
                double want = 0;
                for (int i = 0; i < n; i++) {
                    float v = (float) r.nextGaussian();
                    s.set(F32, 12 + 4L * i, v);
                    x[1 + i] = (float) r.nextGaussian();
                    want += (double) v * x[1 + i];
                }
                assertEquals(want, Vec.dot(s, 12, x, 1, n), 1e-4 * (1 + Math.sqrt(n)));
            }
        }
    }

    @Test
    void int8DotMatchesScalarLoop() {
        Random r = new Random(3);
        try (Arena arena = Arena.ofConfined()) {
            for (int n = 0; n < 150; n += 7) {
                MemorySegment s = arena.allocate(n + 5);
                float[] x = new float[n + 2];
                double want = 0;
                for (int i = 0; i < n; i++) {
                    byte q = (byte) (r.nextInt(255) - 127);
                    s.set(ValueLayout.JAVA_BYTE, 5 + i, q);
                    x[2 + i] = (float) r.nextGaussian();
                    want += q * (double) x[2 + i];
                }
                assertEquals(want, Vec.dotQ8(s, 5, x, 2, n), 1e-3 * (1 + n), "n=" + n);
            }
        }
    }

    @Test
    void workersCoverTheRangeExactlyOnce() {
        try (Workers w = new Workers(3)) {
            for (int n : new int[] {0, 1, 5, 100, 1001}) {
                int[] hits = new int[n];
                w.forRange(n, (from, to) -> {
                    for (int i = from; i < to; i++) hits[i]++;
                });
                for (int h : hits) assertEquals(1, h);
            }
        }
    }
}
