package io.flashllm.kernels;

import io.flashllm.kernels.reference.ScalarReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Every optimized kernel against the scalar reference, for every type, on odd shapes. */
class KernelsVsReferenceTest {
    /**
     * 1..5 cover dot4, dot2 and the single last row in every combination; 8, 15 (dot8, dot4,
     * dot2, dot) and 23 the eighths of matvec's dot8 with every remainder; 33 splits over threads.
     */
    private static final int[] ROWS = {1, 2, 3, 4, 5, 7, 8, 15, 23, 33};
    private static Parallel pool;

    @BeforeAll
    static void start() {
        pool = Parallel.create(3);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    /** Tolerance for a dot product: float rounding relative to the sum of absolute products. */
    private static void assertClose(double expected, double actual, double magnitude, String what) {
        double tol = 1e-5 * magnitude + 1e-6;
        if (Math.abs(expected - actual) > tol) {
            fail(what + ": expected " + expected + " got " + actual + " (tolerance " + tol + ")");
        }
    }

    private static double absDot(float[] w, float[] x, int xOff) {
        double s = 0;
        for (int i = 0; i < w.length; i++) s += Math.abs((double) w[i] * x[xOff + i]);
        return s;
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void dequantMatchesReference(GgmlType type) {
        Random rnd = new Random(type.ordinal());
        try (Arena arena = Arena.ofShared()) {
            for (int cols : TestTensors.colsFor(type)) {
                WeightTensor w = TestTensors.random(arena, type, 5, cols, rnd);
                for (int r = 0; r < 5; r++) {
                    float[] expect = ScalarReference.dequantizeRow(w, r);
                    float[] got = new float[cols + 3];
                    Dequant.row(w, r, got, 3);
                    for (int c = 0; c < cols; c++) {
                        float tol = 1e-6f * Math.max(1f, Math.abs(expect[c]));
                        assertEquals(expect[c], got[3 + c], tol, type + " row " + r + " col " + c);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void dotAndAxpyMatchReference(GgmlType type) {
        Random rnd = new Random(100 + type.ordinal());
        try (Arena arena = Arena.ofShared()) {
            for (int cols : TestTensors.colsFor(type)) {
                WeightTensor w = TestTensors.random(arena, type, 3, cols, rnd);
                float[] x = TestTensors.gaussian(cols + 5, rnd);
                for (int r = 0; r < 3; r++) {
                    float[] row = ScalarReference.dequantizeRow(w, r);
                    assertClose(ScalarReference.dot(w, r, x, 5), MatVec.dot(w, r, x, 5), absDot(row, x, 5),
                            type + " dot cols " + cols);
                    float[] expect = x.clone();
                    float[] got = x.clone();
                    float a = (float) rnd.nextGaussian();
                    for (int c = 0; c < cols; c++) expect[2 + c] += a * row[c];
                    MatVec.axpy(w, r, a, got, 2);
                    for (int c = 0; c < expect.length; c++) {
                        assertEquals(expect[c], got[c], 1e-5f * (1 + Math.abs(a * (c >= 2 && c < cols + 2 ? row[c - 2] : 0)) + Math.abs(x[c])),
                                type + " axpy col " + c);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void matvecAndRowsMatchReference(GgmlType type) {
        Random rnd = new Random(200 + type.ordinal());
        try (Arena arena = Arena.ofShared()) {
            for (int rows : ROWS) {
                for (int cols : TestTensors.colsFor(type)) {
                    WeightTensor w = TestTensors.random(arena, type, rows, cols, rnd);
                    float[] x = TestTensors.gaussian(cols, rnd);
                    float[] expect = new float[rows];
                    ScalarReference.matvec(w, x, expect);
                    double[] mag = new double[rows];
                    for (int r = 0; r < rows; r++) mag[r] = absDot(ScalarReference.dequantizeRow(w, r), x, 0);
                    for (Parallel p : new Parallel[]{null, pool}) {
                        float[] got = new float[rows];
                        MatVec.matvec(p, w, x, got);
                        for (int r = 0; r < rows; r++) assertClose(expect[r], got[r], mag[r], type + " matvec " + rows + "x" + cols);
                    }
                    int count = rows + 2;
                    int[] pick = new int[count + 1];
                    for (int i = 0; i < count; i++) pick[i] = rnd.nextInt(rows); // duplicates allowed
                    float[] got = new float[count];
                    MatVec.matvecRows(pool, w, pick, count, x, got);
                    for (int i = 0; i < count; i++) {
                        assertClose(expect[pick[i]], got[i], mag[pick[i]], type + " matvecRows " + rows + "x" + cols);
                    }
                }
            }
        }
    }

    /**
     * dotPair over two rows of one segment at any distance (a neuron's gate and up rows, two
     * matrices of one allocation in the neuron cache): each equals the reference's dot, with the
     * prepared activations where the type needs them.
     */
    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void dotPairMatchesReference(GgmlType type) {
        Random rnd = new Random(250 + type.ordinal());
        try (Arena arena = Arena.ofShared()) {
            for (int cols : TestTensors.colsFor(type)) {
                int rows = 7;
                WeightTensor w = TestTensors.random(arena, type, rows, cols, rnd);
                float[] x = TestTensors.gaussian(cols, rnd);
                float[] prep = new float[MatVec.prepSize(type, cols)];
                MatVec.prepare(type, x, cols, prep);
                long rb = w.rowBytes();
                int[][] pairs = {{0, 6}, {3, 1}, {2, 2}, {5, 4}};
                for (int[] pr : pairs) {
                    float[] got = {Float.NaN, 9f, 9f, Float.NaN};
                    MatVec.dotPair(type, w.data(), pr[0] * rb, pr[1] * rb, cols, x, prep, got, 1);
                    for (int k = 0; k < 2; k++) {
                        int r = pr[k];
                        assertClose(ScalarReference.dot(w, r, x, 0), got[1 + k],
                                absDot(ScalarReference.dequantizeRow(w, r), x, 0), type + " dotPair row " + r + " of " + cols);
                    }
                    assertTrue(Float.isNaN(got[0]) && Float.isNaN(got[3]), "dotPair wrote outside its two results");
                }
            }
        }
    }

    @Test
    void dotPairRefusesRowsOutsideTheSegmentAndPartBlocks() {
        try (Arena arena = Arena.ofConfined()) {
            WeightTensor w = TestTensors.random(arena, GgmlType.Q8_0, 2, 64, new Random(1));
            float[] x = new float[64], out = new float[2];
            long rb = w.rowBytes();
            assertThrows(IndexOutOfBoundsException.class,
                    () -> MatVec.dotPair(GgmlType.Q8_0, w.data(), 0, rb + 1, 64, x, null, out, 0));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> MatVec.dotPair(GgmlType.Q8_0, w.data(), -rb, 0, 64, x, null, out, 0));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> MatVec.dotPair(GgmlType.Q8_0, w.data(), 0, rb, 64, x, null, out, 1));
            assertThrows(IllegalArgumentException.class,
                    () -> MatVec.dotPair(GgmlType.Q8_0, w.data(), 0, rb, 48, x, null, out, 0));
            if (MatVec.prepSize(GgmlType.Q4_0, 64) > 0) { // the 512-bit Q4_0 kernel prepares x; the narrow one does not
                assertThrows(IndexOutOfBoundsException.class,
                        () -> MatVec.dotPair(GgmlType.Q4_0, w.data(), 0, 0, 64, x, new float[0], out, 0));
            }
        }
    }

    /**
     * axpyBatch, the transposed product of a batch: every row count around the groups of four,
     * odd and even batches (the token pairs and the last token), coefficients zero in whole groups
     * (skipped tokens) and singly, on one thread and split by columns over three, against sums in
     * double of the reference's rows added onto what the output held.
     */
    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void axpyBatchMatchesReference(GgmlType type) {
        Random rnd = new Random(270 + type.ordinal());
        try (Arena arena = Arena.ofShared()) {
            for (int cols : TestTensors.colsFor(type)) {
                for (int rows : new int[] {1, 3, 4, 5, 9}) {
                    WeightTensor w = TestTensors.random(arena, type, rows, cols, rnd);
                    float[][] deq = new float[rows][];
                    for (int r = 0; r < rows; r++) deq[r] = ScalarReference.dequantizeRow(w, r);
                    for (int batch : new int[] {1, 2, 3, 8}) {
                        float[] a = new float[batch * rows];
                        for (int i = 0; i < a.length; i++) a[i] = rnd.nextInt(3) == 0 ? 0f : (float) rnd.nextGaussian();
                        if (rows >= 4) for (int i = 0; i < 4; i++) a[i] = 0f; // token 0's first group is silent
                        float[] start = TestTensors.gaussian(batch * cols, rnd);
                        for (Parallel p : new Parallel[] {null, pool}) {
                            float[] got = start.clone();
                            MatVec.axpyBatch(p, w, a, batch, got);
                            for (int b = 0; b < batch; b++) {
                                for (int c = 0; c < cols; c++) {
                                    double e = start[b * cols + c], mag = Math.abs(e);
                                    for (int r = 0; r < rows; r++) {
                                        e += (double) a[b * rows + r] * deq[r][c];
                                        mag += Math.abs((double) a[b * rows + r] * deq[r][c]);
                                    }
                                    assertClose(e, got[b * cols + c], mag, type + " axpyBatch " + rows + "x" + cols
                                            + " batch " + batch + " token " + b + " col " + c);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void axpyBatchRefusesShortArrays() {
        try (Arena arena = Arena.ofConfined()) {
            WeightTensor w = TestTensors.random(arena, GgmlType.Q8_0, 3, 64, new Random(2));
            assertThrows(IndexOutOfBoundsException.class, () -> MatVec.axpyBatch(null, w, new float[5], 2, new float[128]));
            assertThrows(IndexOutOfBoundsException.class, () -> MatVec.axpyBatch(null, w, new float[6], 2, new float[127]));
            assertThrows(IllegalArgumentException.class, () -> MatVec.axpyBatch(null, w, new float[6], -1, new float[128]));
        }
    }

    /**
     * axpyRows (axpy8, axpy4, then single rows) over gathered rows in any order with repeats, every
     * count from 0 past two groups of eight: equal to the reference, and bit for bit equal to
     * axpy row after row, as its contract says.
     */
    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void axpyRowsMatchesReferenceAndAxpy(GgmlType type) {
        Random rnd = new Random(500 + type.ordinal());
        try (Arena arena = Arena.ofShared()) {
            for (int cols : TestTensors.colsFor(type)) {
                int rows = 11;
                WeightTensor w = TestTensors.random(arena, type, rows, cols, rnd);
                float[][] deq = new float[rows][];
                for (int r = 0; r < rows; r++) deq[r] = ScalarReference.dequantizeRow(w, r);
                for (int count = 0; count <= 19; count++) {
                    int[] pick = new int[count + 2];
                    float[] a = new float[count + 1];
                    for (int i = 0; i < count; i++) {
                        pick[i] = rnd.nextInt(rows);
                        a[i] = (float) rnd.nextGaussian();
                    }
                    float[] start = TestTensors.gaussian(cols + 5, rnd);
                    float[] got = start.clone();
                    MatVec.axpyRows(w, pick, a, count, got, 3);
                    float[] oneByOne = start.clone();
                    for (int i = 0; i < count; i++) MatVec.axpy(w, pick[i], a[i], oneByOne, 3);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(oneByOne, got,
                            type + " axpyRows vs axpy, " + count + " rows of " + cols);
                    for (int c = 0; c < cols + 5; c++) {
                        double expect = start[c], mag = Math.abs(start[c]);
                        if (c >= 3 && c < cols + 3) {
                            for (int i = 0; i < count; i++) {
                                expect += (double) a[i] * deq[pick[i]][c - 3];
                                mag += Math.abs((double) a[i] * deq[pick[i]][c - 3]);
                            }
                        }
                        assertClose(expect, got[c], mag, type + " axpyRows " + count + " rows col " + c);
                    }
                }
            }
        }
    }

    /**
     * matvecRows on one thread over every pick count up to 19, rows drawn at random and then sorted: the gathered rows go through
     * dot8Gathered (side by side, or an eighth of the list apart), dot4, dot2 and dot, each remainder included, land at their
     * pick index, and nothing past count is written.
     */
    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void matvecRowsEveryCountMatchesReference(GgmlType type) {
        Random rnd = new Random(600 + type.ordinal());
        try (Arena arena = Arena.ofShared()) {
            for (int cols : TestTensors.colsFor(type)) {
                int rows = 13;
                WeightTensor w = TestTensors.random(arena, type, rows, cols, rnd);
                float[] x = TestTensors.gaussian(cols, rnd);
                float[] expect = new float[rows];
                ScalarReference.matvec(w, x, expect);
                double[] mag = new double[rows];
                for (int r = 0; r < rows; r++) mag[r] = absDot(ScalarReference.dequantizeRow(w, r), x, 0);
                for (int count = 0; count <= 19; count++) {
                    int[] pick = new int[count + 2];
                    for (int i = 0; i < count; i++) pick[i] = rnd.nextInt(rows);
                    // As drawn, then ascending (neighbouring rows: matvecRows takes them an eighth of the list apart).
                    for (boolean ascending : new boolean[]{false, true}) {
                        if (ascending) java.util.Arrays.sort(pick, 0, count);
                        float[] got = new float[count + 1];
                        got[count] = 42f;
                        MatVec.matvecRows(null, w, pick, count, x, got);
                        for (int i = 0; i < count; i++) {
                            assertClose(expect[pick[i]], got[i], mag[pick[i]],
                                    type + " matvecRows " + count + " of " + cols + (ascending ? ", ascending" : ""));
                        }
                        org.junit.jupiter.api.Assertions.assertEquals(42f, got[count], type + " wrote past count " + count);
                    }
                }
            }
        }
    }

    /** dot2, dot4, dot8 and dot8Gathered called directly on gathered rows (any order, repeats) with prepared activations at an offset. */
    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void multiRowKernelsMatchReference(GgmlType type) {
        Random rnd = new Random(400 + type.ordinal());
        io.flashllm.kernels.cpu.RowKernel k = io.flashllm.kernels.cpu.RowKernel.forType(type);
        try (Arena arena = Arena.ofShared()) {
            for (int cols : TestTensors.colsFor(type)) {
                int rows = 6;
                WeightTensor w = TestTensors.random(arena, type, rows, cols, rnd);
                float[] x = TestTensors.gaussian(cols + 3, rnd);
                float[] prep = new float[k.prepSize(cols)];
                k.prepare(x, 3, cols, prep);
                long rb = w.rowBytes();
                for (int trial = 0; trial < 4; trial++) {
                    int[] r = new int[4];
                    for (int i = 0; i < 4; i++) r[i] = rnd.nextInt(rows);
                    float[] got = new float[7];
                    k.dot4(w.data(), r[0] * rb, r[1] * rb, r[2] * rb, r[3] * rb, cols, x, 3, prep, got, 1);
                    k.dot2(w.data(), r[2] * rb, r[0] * rb, cols, x, 3, prep, got, 5);
                    int[] which = {-1, r[0], r[1], r[2], r[3], r[2], r[0]};
                    for (int i = 1; i < 7; i++) {
                        float[] row = ScalarReference.dequantizeRow(w, which[i]);
                        assertClose(ScalarReference.dot(w, which[i], x, 3), got[i], absDot(row, x, 3),
                                type + (i < 5 ? " dot4" : " dot2") + " cols " + cols);
                    }
                    assertEquals(0f, got[0], type + " dot4 wrote outside its outputs");
                    int[] r8 = new int[8];
                    for (int i = 0; i < 8; i++) r8[i] = rnd.nextInt(rows);
                    // dot8 and dot8Gathered: the same contract.
                    for (boolean gathered : new boolean[]{false, true}) {
                        float[] got8 = new float[10];
                        if (gathered) {
                            k.dot8Gathered(w.data(), r8[0] * rb, r8[1] * rb, r8[2] * rb, r8[3] * rb, r8[4] * rb,
                                    r8[5] * rb, r8[6] * rb, r8[7] * rb, cols, x, 3, prep, got8, 1);
                        } else {
                            k.dot8(w.data(), r8[0] * rb, r8[1] * rb, r8[2] * rb, r8[3] * rb, r8[4] * rb, r8[5] * rb,
                                    r8[6] * rb, r8[7] * rb, cols, x, 3, prep, got8, 1);
                        }
                        String name = type + (gathered ? " dot8Gathered" : " dot8");
                        for (int i = 0; i < 8; i++) {
                            float[] row = ScalarReference.dequantizeRow(w, r8[i]);
                            assertClose(ScalarReference.dot(w, r8[i], x, 3), got8[i + 1], absDot(row, x, 3),
                                    name + " cols " + cols);
                        }
                        assertEquals(0f, got8[0], name + " wrote before its outputs");
                        assertEquals(0f, got8[9], name + " wrote after its outputs");
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void matmulMatchesReference(GgmlType type) {
        Random rnd = new Random(300 + type.ordinal());
        try (Arena arena = Arena.ofShared()) {
            int cols = TestTensors.colsFor(type)[2];
            for (int rows : new int[]{1, 5, 70}) {
                WeightTensor w = TestTensors.random(arena, type, rows, cols, rnd);
                for (int batch : new int[]{1, 2, 4, 7, 9}) {
                    float[] x = TestTensors.gaussian(batch * cols, rnd);
                    float[] got = new float[batch * rows];
                    MatVec.matmul(pool, w, x, batch, got);
                    for (int b = 0; b < batch; b++) {
                        float[] xb = java.util.Arrays.copyOfRange(x, b * cols, (b + 1) * cols);
                        for (int r = 0; r < rows; r++) {
                            float[] row = ScalarReference.dequantizeRow(w, r);
                            assertClose(ScalarReference.dot(w, r, xb, 0), got[b * rows + r], absDot(row, xb, 0),
                                    type + " matmul batch " + batch + " rows " + rows);
                        }
                    }
                }
            }
        }
    }
    /**
     * Four rows times four activation rows as the small-batch products call it, activation rows 1..4
     * of five and weight rows 2..5 of seven (offsets inside both): the fused Q8_0 kernel, and the
     * default (single-row dots) of every other type.
     */
    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void fourRowsTimesFourActivationRowsMatchReference(GgmlType type) {
        Random rnd = new Random(500 + type.ordinal());
        try (Arena arena = Arena.ofShared()) {
            int cols = TestTensors.colsFor(type)[2], rows = 7;
            WeightTensor w = TestTensors.random(arena, type, rows, cols, rnd);
            float[] x = TestTensors.gaussian(5 * cols, rnd);
            float[] got = new float[5 * rows];
            java.util.Arrays.fill(got, Float.NaN);
            io.flashllm.kernels.cpu.RowKernel k = io.flashllm.kernels.cpu.RowKernel.forType(type);
            if (k.fusesBatch4()) assertEquals(0, k.prepSize(cols), "MatVec runs a fused kernel's last rows without prepare");
            k.dot4x4(w.data(), 2 * w.rowBytes(), w.rowBytes(), cols, x, 1, rows, 2, got);
            for (int b = 0; b < 5; b++) {
                for (int r = 0; r < rows; r++) {
                    String what = type + " dot4x4 activation row " + b + " weight row " + r;
                    if (b >= 1 && r >= 2 && r <= 5) {
                        assertClose(ScalarReference.dot(w, r, x, b * cols), got[b * rows + r],
                                absDot(ScalarReference.dequantizeRow(w, r), x, b * cols), what);
                    } else {
                        assertTrue(Float.isNaN(got[b * rows + r]), what + " was written");
                    }
                }
            }
        }
    }

    /**
     * The panel path of batched products: batches of 8 and more (at 512 bits a last eight tokens in an
     * eight-lane vector: 8, 40; a last sixteen: 12, 16, 45; pairs of sixteen: 17, 24, 33, 64), rows that leave
     * a partial panel of twelve, and 2304 columns: one column block per panel up to a batch of 48, two (2048
     * and 256 columns, the partial sums carried between them) at a batch of 64.
     */
    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void panelMatmulMatchesReference(GgmlType type) {
        Random rnd = new Random(400 + type.ordinal());
        int cols = 2304;
        try (Arena arena = Arena.ofShared()) {
            for (int rows : new int[]{1, 13, 30}) {
                WeightTensor w = TestTensors.random(arena, type, rows, cols, rnd);
                for (int batch : new int[]{8, 12, 16, 17, 24, 33, 40, 45, 64}) {
                    float[] x = TestTensors.gaussian(batch * cols, rnd);
                    for (Parallel p : new Parallel[]{null, pool}) {
                        float[] got = new float[batch * rows];
                        MatVec.matmul(p, w, x, batch, got);
                        for (int b = 0; b < batch; b++) {
                            for (int r = 0; r < rows; r++) {
                                float[] row = ScalarReference.dequantizeRow(w, r);
                                assertClose(ScalarReference.dot(w, r, x, b * cols), got[b * rows + r], absDot(row, x, b * cols),
                                        type + " panel matmul batch " + batch + " rows " + rows);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * MXFP4 at the edges of its E8M0 scales, every nibble value present: blocks with e = 0, 1
     * (subnormal scales) and 2 (the smallest normal) against activations scaled by 2^120, so their
     * products are of order one; and blocks with e = 127 and 254 (2^126: nibbles of magnitude up to
     * 3 only, larger ones make weights that overflow a float) against activations scaled by 2^-8.
     * Dequantization bit for bit; dot, the multi-row products (seven rows: dot4, dot2 and dot) and
     * axpy, axpy4 within float rounding of the reference.
     */
    @Test
    void mxfp4EdgeScalesMatchReference() {
        Random rnd = new Random(39);
        int rows = 7, cols = 32 * 12;
        for (int[] exps : new int[][]{{0, 1, 2}, {127, 254, 127}}) {
            float xScale = exps[0] == 0 ? 0x1p120f : 0x1p-8f;
            try (Arena arena = Arena.ofConfined()) {
                long bytes = GgmlType.MXFP4.bytesFor((long) rows * cols);
                java.lang.foreign.MemorySegment s = arena.allocate(bytes, 64);
                for (long bo = 0, i = 0; bo < bytes; bo += 17, i++) {
                    int e = exps[(int) (i % 3)];
                    s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, bo, (byte) e);
                    for (int j = 1; j < 17; j++) {
                        int q = rnd.nextInt(256);
                        if (e == 254) q &= 0xBB; // nibbles 0..3 and 8..11: |value| <= 3
                        s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, bo + j, (byte) q);
                    }
                }
                WeightTensor w = new WeightTensor("mxfp4-edges", GgmlType.MXFP4, new long[]{cols, rows}, s);
                float[] x = TestTensors.gaussian(cols, rnd);
                for (int c = 0; c < cols; c++) x[c] *= xScale;
                float[] expect = new float[rows];
                ScalarReference.matvec(w, x, expect);
                float[] got = new float[rows];
                MatVec.matvec(null, w, x, got);
                for (int r = 0; r < rows; r++) {
                    float[] row = ScalarReference.dequantizeRow(w, r);
                    float[] fast = Dequant.row(w, r);
                    for (int c = 0; c < cols; c++) {
                        assertEquals(Float.floatToIntBits(row[c]), Float.floatToIntBits(fast[c]), "MXFP4 dequant e=" + exps[c / 32 % 3]);
                    }
                    String what = "MXFP4 scales " + java.util.Arrays.toString(exps) + " row " + r;
                    assertClose(expect[r], got[r], absDot(row, x, 0), what + " matvec");
                    assertClose(expect[r], MatVec.dot(w, r, x, 0), absDot(row, x, 0), what + " dot");
                    float[] acc = new float[cols], want = new float[cols];
                    float a = 0.75f * xScale; // products of order one, as for the dots
                    MatVec.axpy(w, r, a, acc);
                    for (int c = 0; c < cols; c++) {
                        want[c] = a * row[c];
                        assertEquals(want[c], acc[c], 1e-6f * Math.abs(want[c]), what + " axpy col " + c);
                    }
                }
                int[] pick = {6, 0, 3, 3, 5};
                float[] coef = {0.5f, -1f, 2f, 0.25f, -0.125f};
                float[] four = new float[cols], one = new float[cols];
                MatVec.axpyRows(w, pick, coef, 5, four, 0);
                for (int i = 0; i < 5; i++) MatVec.axpy(w, pick[i], coef[i], one);
                org.junit.jupiter.api.Assertions.assertArrayEquals(one, four, "MXFP4 axpyRows vs axpy");
            }
        }
    }

    /** Column blocks: whole rows when they fit, else multiples of 256 whose activations stay within 512 KiB. */
    @Test
    void batchesArePaddedToWholeVectorsOfTokens() {
        int[] batches = {8, 12, 16, 17, 24, 32, 33, 40, 41, 45, 49, 64};
        int[] padded = io.flashllm.kernels.cpu.PanelKernel.usable()
                ? new int[] {8, 16, 16, 32, 32, 32, 40, 40, 48, 48, 64, 64}
                : new int[] {8, 16, 16, 24, 24, 32, 40, 40, 48, 48, 56, 64};
        for (int i = 0; i < batches.length; i++) {
            assertEquals(padded[i], MatMul.paddedBatch(batches[i]), "batch " + batches[i]);
        }
    }

    @Test
    void columnBlockKeepsActivationsInL2AndWholeRowsWhenTheyFit() {
        assertEquals(2048, MatMul.columnBlock(2048, 64));
        assertEquals(2048, MatMul.columnBlock(8192, 64));
        assertEquals(8192, MatMul.columnBlock(8192, 16));
        assertEquals(2304, MatMul.columnBlock(2304, 48));
        assertEquals(96, MatMul.columnBlock(96, 64));
        for (int pw = 16; pw <= 64; pw += 16) {
            for (int cols : new int[]{32, 256, 2048, 2304, 5120, 8192, 14336}) {
                int k = MatMul.columnBlock(cols, pw);
                assertTrue(k == cols || (k % 256 == 0 && k < cols), cols + " cols, batch " + pw + ": " + k);
                assertTrue((long) k * pw * Float.BYTES <= 512 << 10 || k == 256, cols + " cols, batch " + pw + ": " + k);
            }
        }
    }
}
