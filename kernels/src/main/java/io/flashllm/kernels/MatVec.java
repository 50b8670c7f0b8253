package io.flashllm.kernels;

import io.flashllm.kernels.cpu.RowKernel;
import io.flashllm.kernels.cpu.TileAxpy;
import io.flashllm.kernels.cpu.TileDot;

import java.lang.foreign.MemorySegment;

/**
 * Matrix-vector products over weight tensors used in place. Rows are spread over the threads of a
 * {@link Parallel}; each row is one call into the type's {@link RowKernel}, which decodes blocks in
 * registers.
 */
public final class MatVec {
    /** Below this many weight elements a product runs on the calling thread: the hand-off would cost more. */
    private static final long PARALLEL_MIN_ELEMENTS = 1 << 15;
    /** Activations handled together per decoded weight row in {@link #matmul}. */
    private static final int BATCH_TILE = TileDot.TILE;
    /** Weight rows decoded together in {@link #matmul}; with {@link #BATCH_TILE} they form a 4x4 register tile. */
    private static final int ROW_TILE = 4;

    /** Rows per chunk of a parallel product come in multiples of this: the kernels' widest calls take eight rows. */
    private static final int ROW_GRAIN = 8;
    /** Per thread, the four results of a spread {@code dot4} before they go to their rows. */
    private static final ThreadLocal<float[]> FOUR = ThreadLocal.withInitial(() -> new float[4]);
    /** Per thread, the eight results of a spread {@code dot8}. */
    private static final ThreadLocal<float[]> EIGHT = ThreadLocal.withInitial(() -> new float[8]);
    /**
     * Rows per kernel call in {@link #matvec} at most: 8 ({@code dot8} over the eighths of each
     * thread's range, then the rest over quarters, pairs, a last row) for kernels whose
     * {@link RowKernel#rowsPerCall} is 8, or 4 ({@code dot4} over the quarters); {@code -Dflashllm.matvec.rows}.
     */
    static final int ROWS_PER_CALL = rowsPerCall();

    private static int rowsPerCall() {
        int n = Integer.getInteger("flashllm.matvec.rows", 8);
        if (n != 4 && n != 8) throw new IllegalArgumentException("flashllm.matvec.rows must be 4 or 8, got " + n);
        return n;
    }

    /**
     * Per calling thread, the buffer for {@link RowKernel#prepare}: filled before the rows are
     * handed out and only read by the workers until the product returns, so one per thread
     * suffices and a product allocates nothing for it.
     */
    private static final ThreadLocal<float[]> PREP = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * Per thread, the dequantized rows {@link #matmul}'s tiled path multiplies: each range of rows
     * is run by one thread start to end, so a buffer per thread serves every range it takes.
     */
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[0]);

    private MatVec() {}

    /** This thread's buffer from {@code local}, grown to at least {@code n} floats. */
    private static float[] buffer(ThreadLocal<float[]> local, int n) {
        float[] buffer = local.get();
        if (buffer.length < n) {
            buffer = new float[n];
            local.set(buffer);
        }
        return buffer;
    }

    /** {@link RowKernel#prepare} of {@code x} into this thread's buffer; null when the kernel needs none. */
    private static float[] prepare(RowKernel k, float[] x, int cols) {
        int n = k.prepSize(cols);
        if (n == 0) return null;
        float[] prep = buffer(PREP, n);
        k.prepare(x, 0, cols, prep);
        return prep;
    }

    /** {@code out[r] = W[r] . x} for every row r. */
    public static void matvec(Parallel p, WeightTensor w, float[] x, float[] out) {
        int rows = w.rows(), cols = w.cols();
        Checks.span("x", x, 0, cols);
        Checks.span("out", out, 0, rows);
        RowKernel k = RowKernel.forType(w.type());
        DenseJob job = DENSE_JOB.get();
        job.set(k, w, x, prepare(k, x, cols), out);
        try {
            run(p, rows, (long) rows * cols, job);
        } finally {
            job.clear();
        }
    }

    /*
     * The parallel bodies of the decode products are objects kept per calling thread and refilled
     * for each call, not lambdas: a capturing lambda is a new object per product, ~200 per token.
     * The pool publishes the body to its workers before they run it and the caller waits for them,
     * so a body is never refilled while in use; a worker's own nested product uses its own.
     */
    private static final ThreadLocal<DenseJob> DENSE_JOB = ThreadLocal.withInitial(DenseJob::new);
    private static final ThreadLocal<GatheredJob> GATHERED_JOB = ThreadLocal.withInitial(GatheredJob::new);

    /** What both decode bodies read: the kernel, the tensor's rows, x (and its prepared form), out. */
    private abstract static class ProductJob implements Parallel.RangeBody {
        RowKernel k;
        MemorySegment s;
        long rb;
        int cols;
        float[] x;
        float[] prep;
        float[] out;

        final void set(RowKernel k, WeightTensor w, float[] x, float[] prep, float[] out) {
            this.k = k;
            this.s = w.data();
            this.rb = w.rowBytes();
            this.cols = w.cols();
            this.x = x;
            this.prep = prep;
            this.out = out;
        }

        /** Drops the references, so a finished product does not keep its arrays or tensor reachable. */
        void clear() {
            k = null;
            s = null;
            x = prep = out = null;
        }

        @Override
        public final void run(int from, int to) {
            rows(from, to, k, s, rb, cols, x, prep, out); // the fields as arguments: locals in the row loops
        }

        abstract void rows(int from, int to, RowKernel k, MemorySegment s, long rb, int cols, float[] x, float[] prep,
                           float[] out);
    }

    /** The rows of {@link #matvec}. */
    private static final class DenseJob extends ProductJob {
        @Override
        void rows(int from, int to, RowKernel k, MemorySegment s, long rb, int cols, float[] x, float[] prep, float[] out) {
            // The rows of a dot8 (dot4) call come from the eight eighths (four quarters) of the
            // range: streams from DRAM that far apart. Four neighbouring rows of a 2048-column
            // matrix are one 8.7 KiB stream (Q8_0), which one core reads at 6.0 GB/cpu-s against
            // 9.1-10 as four spread streams.
            int start = from;
            if (ROWS_PER_CALL == 8 && k.rowsPerCall() == 8) {
                float[] eight = EIGHT.get();
                int e = (to - from) / 8;
                for (int i = 0; i < e; i++) {
                    int r0 = from + i, r1 = r0 + e, r2 = r1 + e, r3 = r2 + e;
                    int r4 = r3 + e, r5 = r4 + e, r6 = r5 + e, r7 = r6 + e;
                    k.dot8(s, r0 * rb, r1 * rb, r2 * rb, r3 * rb, r4 * rb, r5 * rb, r6 * rb, r7 * rb,
                            cols, x, 0, prep, eight, 0);
                    spread8(eight, out, r0, e);
                }
                start = from + 8 * e;
            }
            float[] four = FOUR.get();
            int q = (to - start) / 4;
            for (int i = 0; i < q; i++) {
                int r0 = start + i, r1 = r0 + q, r2 = r1 + q, r3 = r2 + q;
                k.dot4(s, r0 * rb, r1 * rb, r2 * rb, r3 * rb, cols, x, 0, prep, four, 0);
                out[r0] = four[0];
                out[r1] = four[1];
                out[r2] = four[2];
                out[r3] = four[3];
            }
            int r = start + 4 * q;
            for (; r + 1 < to; r += 2) k.dot2(s, r * rb, (r + 1) * rb, cols, x, 0, prep, out, r);
            if (r < to) out[r] = k.dot(s, r * rb, cols, x, 0);
        }
    }

    /** {@code out[i] = W[rows[i]] . x} for i in [0, count): the rows a sparsity predictor selected. */
    public static void matvecRows(Parallel p, WeightTensor w, int[] rows, int count, float[] x, float[] out) {
        int cols = w.cols();
        if (count < 0 || count > rows.length) {
            throw new IndexOutOfBoundsException("count " + count + " outside row list of " + rows.length);
        }
        Checks.span("x", x, 0, cols);
        Checks.span("out", out, 0, count);
        checkRows(w, rows, count);
        RowKernel k = RowKernel.forType(w.type());
        GatheredJob job = GATHERED_JOB.get();
        job.set(k, w, x, prepare(k, x, cols), out);
        job.rows = rows;
        try {
            run(p, count, (long) count * cols, job);
        } finally {
            job.clear();
        }
    }

    /** {@code out[first + k * stride] = eight[k]} for k in 0..7: the results of eight rows taken {@code stride} apart. */
    private static void spread8(float[] eight, float[] out, int first, int stride) {
        for (int k = 0; k < 8; k++) out[first + k * stride] = eight[k];
    }

    /** The rows of {@link #matvecRows}. */
    private static final class GatheredJob extends ProductJob {
        int[] rows;

        @Override
        void clear() {
            super.clear();
            rows = null;
        }

        @Override
        void rows(int from, int to, RowKernel k, MemorySegment s, long rb, int cols, float[] x, float[] prep, float[] out) {
            int[] rows = this.rows;
            // dot8Gathered, not dot8: the gathered rows are mostly neuron-cache rows (native
            // segments) while matvec's dot8 streams mapped tensors. Sharing dot8 gave its compiled
            // code two segment classes; the gate product slowed with it and a bundle decoded ~30%
            // slower. (Kernels without their own dot8Gathered run it as two dot4 calls.)
            int i = from;
            int e = (to - from) / 8;
            if (e > 0 && rows[to - 1] - rows[from] >= 0 && rows[to - 1] - rows[from] < 2 * (to - from)) {
                // Mostly neighbouring rows in ascending order (a neuron cache whose rows mostly
                // fire, a dense selection): eight rows side by side are one short stream, which a
                // core reads from DRAM at about half the rate of eight streams an eighth of the
                // list apart, so take the rows as matvec does (docs/benchmarks.md §1, session 25).
                float[] eight = EIGHT.get();
                for (int j = 0; j < e; j++) {
                    int i0 = from + j, i1 = i0 + e, i2 = i1 + e, i3 = i2 + e, i4 = i3 + e, i5 = i4 + e, i6 = i5 + e, i7 = i6 + e;
                    k.dot8Gathered(s, rows[i0] * rb, rows[i1] * rb, rows[i2] * rb, rows[i3] * rb,
                            rows[i4] * rb, rows[i5] * rb, rows[i6] * rb, rows[i7] * rb, cols, x, 0, prep, eight, 0);
                    spread8(eight, out, i0, e);
                }
                i = from + 8 * e;
            }
            for (; i + 7 < to; i += 8) {
                k.dot8Gathered(s, rows[i] * rb, rows[i + 1] * rb, rows[i + 2] * rb, rows[i + 3] * rb,
                        rows[i + 4] * rb, rows[i + 5] * rb, rows[i + 6] * rb, rows[i + 7] * rb, cols, x, 0, prep, out, i);
            }
            for (; i + 3 < to; i += 4) {
                k.dot4(s, rows[i] * rb, rows[i + 1] * rb, rows[i + 2] * rb, rows[i + 3] * rb, cols, x, 0, prep, out, i);
            }
            for (; i + 1 < to; i += 2) k.dot2(s, rows[i] * rb, rows[i + 1] * rb, cols, x, 0, prep, out, i);
            if (i < to) out[i] = k.dot(s, rows[i] * rb, cols, x, 0);
        }
    }

    /**
     * {@code out[b*rows + r] = W[r] . x[b*cols ..]} for a batch of activations (prompt processing).
     * Batches of {@link MatMul#MIN_BATCH} or more go to {@link MatMul}'s panel kernel; smaller ones
     * (a decode step batched across slots, a short prompt): weight rows are decoded four at a time
     * into a per-range buffer (L1/L2-resident) and multiplied with the batch four activations at a
     * time in a 4x4 register tile, so weight bytes are read and decoded once per batch and each
     * loaded vector feeds four FMAs; types whose kernel {@link RowKernel#fusesBatch4 fuses} the
     * decoding into the 4x4 tile skip the buffer (Q8_0: four slots' decode steps 12% faster through
     * serve; docs/benchmarks.md §6).
     */
    public static void matmul(Parallel p, WeightTensor w, float[] x, int batch, float[] out) {
        int rows = w.rows(), cols = w.cols();
        if (batch < 0) throw new IllegalArgumentException("batch must be >= 0, got " + batch);
        Checks.span("x", x, 0, (long) batch * cols);
        Checks.span("out", out, 0, (long) batch * rows);
        if (batch == 0) return;
        if (batch == 1) {
            matvec(p, w, x, out);
            return;
        }
        if (MatMul.applies(batch)) {
            MatMul.matmul(p, w, x, batch, out);
            return;
        }
        RowKernel k = RowKernel.forType(w.type());
        MemorySegment s = w.data();
        long rb = w.rowBytes();
        if (k.fusesBatch4()) {
            // Four rows decoded in registers for four activation rows at a time; a batch's last one
            // to three activation rows (all of a batch of two or three) take the four-row kernel, the
            // rows still in cache. Both add as matvec does: a row's bits do not depend on the batch.
            int whole = batch - batch % BATCH_TILE;
            run(p, rows, (long) rows * cols * batch, (from, to) -> {
                int r = from;
                for (; r + ROW_TILE <= to; r += ROW_TILE) {
                    for (int b = 0; b < whole; b += BATCH_TILE) k.dot4x4(s, r * rb, rb, cols, x, b, rows, r, out);
                    for (int b = whole; b < batch; b++) {
                        k.dot4(s, r * rb, (r + 1) * rb, (r + 2) * rb, (r + 3) * rb, cols, x, b * cols, null, out, b * rows + r);
                    }
                }
                for (; r < to; r++) {
                    for (int b = 0; b < batch; b++) out[b * rows + r] = k.dot(s, r * rb, cols, x, b * cols);
                }
            });
            return;
        }
        Parallel.RangeBody body = (from, to) -> {
            float[] tile = buffer(TILE, ROW_TILE * cols);
            int r = from;
            for (; r + ROW_TILE <= to; r += ROW_TILE) {
                for (int i = 0; i < ROW_TILE; i++) k.dequant(s, (r + i) * rb, cols, tile, i * cols);
                int b = 0;
                for (; b + BATCH_TILE <= batch; b += BATCH_TILE) TileDot.dot4x4(tile, cols, x, b, rows, r, out);
                for (; b < batch; b++) TileDot.dot4x1(tile, cols, x, b, rows, r, out);
            }
            for (; r < to; r++) {
                k.dequant(s, r * rb, cols, tile, 0);
                int b = 0;
                for (; b + BATCH_TILE <= batch; b += BATCH_TILE) TileDot.dot4(tile, cols, x, b, rows, r, out);
                for (; b < batch; b++) out[b * rows + r] = TileDot.dot(tile, 0, cols, x, b * cols);
            }
        };
        run(p, rows, (long) rows * cols * batch, body);
    }

    /**
     * Whether {@link #matmul} over fewer than eight activation rows gives each output exactly the
     * bits {@link #matvec} gives it, for {@code type} at the vector width in use: then batching
     * sequences' decode steps changes nothing in their results. True for the float types (F32, F16,
     * BF16), whose rows add lane-wise over the columns as the decoded tile's products do, and where
     * the kernel fuses the batch (Q8_0 at 256 and 512 bits), whose 4x4 tile adds as its rows; the
     * other types' rows add per block before the block's scale, which a decoded tile cannot.
     * {@code bench.TierAgreement} checks the claim for every type and width.
     */
    public static boolean smallBatchMatchesMatvec(GgmlType type) {
        return type.blockSize == 1 || RowKernel.forType(type).fusesBatch4();
    }

    /**
     * Two rows of one type held anywhere in one segment, against the same activations in one pass:
     * {@code out[outOff] = row(off0) . x}, {@code out[outOff + 1] = row(off1) . x}. Made for a
     * neuron's gate and up rows in the neuron cache, two matrices of one allocation: walked neuron
     * after neuron, that is two forward streams with each activation vector loaded once for both
     * (44 GB/s on two threads where two single-row dots read 30; docs/benchmarks.md §1, session 22).
     * {@code prep} is {@link #prepare(GgmlType, float[], int, float[])} of {@code x}, or null where
     * {@link #prepSize} is 0.
     */
    public static void dotPair(GgmlType type, MemorySegment s, long off0, long off1, int cols, float[] x,
                               float[] prep, float[] out, int outOff) {
        long bytes = type.bytesFor(cols);
        if (bytes < 0) throw new IllegalArgumentException(cols + " columns are not whole " + type + " blocks");
        if (off0 < 0 || off1 < 0 || off0 > s.byteSize() - bytes || off1 > s.byteSize() - bytes) {
            throw new IndexOutOfBoundsException("rows at " + off0 + " and " + off1 + " of " + bytes
                    + " bytes outside a segment of " + s.byteSize());
        }
        Checks.span("x", x, 0, cols);
        Checks.span("out", out, outOff, 2);
        RowKernel k = RowKernel.forType(type);
        if (k.prepSize(cols) > 0) Checks.span("prep", prep, 0, k.prepSize(cols));
        k.dot2(s, off0, off1, cols, x, 0, prep, out, outOff);
    }

    /** Floats {@link #dotPair} needs prepared per activation vector of {@code cols} (0: none). */
    public static int prepSize(GgmlType type, int cols) {
        return RowKernel.forType(type).prepSize(cols);
    }

    /** Fills {@code prep[0 .. prepSize(type, cols))} from {@code x} for {@link #dotPair}. */
    public static void prepare(GgmlType type, float[] x, int cols, float[] prep) {
        RowKernel k = RowKernel.forType(type);
        Checks.span("x", x, 0, cols);
        Checks.span("prep", prep, 0, k.prepSize(cols));
        k.prepare(x, 0, cols, prep);
    }

    /** {@code W[row] . x[xOff .. xOff + cols)}. */
    public static float dot(WeightTensor w, int row, float[] x, int xOff) {
        Checks.row(w, row);
        Checks.span("x", x, xOff, w.cols());
        return RowKernel.forType(w.type()).dot(w.data(), row * w.rowBytes(), w.cols(), x, xOff);
    }

    /** {@code out[c] += a * W[row][c]} for every column c. */
    public static void axpy(WeightTensor w, int row, float a, float[] out) {
        axpy(w, row, a, out, 0);
    }

    /** {@code out[outOff + c] += a * W[row][c]} for every column c. */
    public static void axpy(WeightTensor w, int row, float a, float[] out, int outOff) {
        Checks.row(w, row);
        Checks.span("out", out, outOff, w.cols());
        RowKernel.forType(w.type()).axpy(w.data(), row * w.rowBytes(), w.cols(), a, out, outOff);
    }

    /**
     * {@code out[outOff + c] += a[i] * W[rows[i]][c]} for i in [0, count) and every column c: the
     * down projection over the neurons a token uses (the rows of the neuron cache that fired), on
     * the calling thread, eight (else four, else one) rows per kernel call. Each element gets the
     * same fused multiply-adds in the same order as {@link #axpy} row after row, so the result is bit
     * for bit the same.
     */
    public static void axpyRows(WeightTensor w, int[] rows, float[] a, int count, float[] out, int outOff) {
        int cols = w.cols();
        if (count < 0 || count > rows.length || count > a.length) {
            throw new IndexOutOfBoundsException("count " + count + " outside row list of " + rows.length
                    + " / coefficients of " + a.length);
        }
        Checks.span("out", out, outOff, cols);
        checkRows(w, rows, count);
        RowKernel k = RowKernel.forType(w.type());
        MemorySegment s = w.data();
        long rb = w.rowBytes();
        int i = 0;
        for (; i + 7 < count; i += 8) {
            k.axpy8(s, rows[i] * rb, rows[i + 1] * rb, rows[i + 2] * rb, rows[i + 3] * rb, rows[i + 4] * rb,
                    rows[i + 5] * rb, rows[i + 6] * rb, rows[i + 7] * rb, cols, a, i, out, outOff);
        }
        for (; i + 3 < count; i += 4) {
            k.axpy4(s, rows[i] * rb, rows[i + 1] * rb, rows[i + 2] * rb, rows[i + 3] * rb, cols,
                    a[i], a[i + 1], a[i + 2], a[i + 3], out, outOff);
        }
        for (; i < count; i++) k.axpy(s, rows[i] * rb, cols, a[i], out, outOff);
    }

    /**
     * {@code out[b*cols + c] += sum over i of a[b*rows + i] * W[i][c]} for every token b below
     * {@code batch} and column c: the transposed product of a prompt batch, as the down projection
     * over neuron-cache rows (each row one column of the down matrix). Each weight row is decoded
     * once per call, four at a time into a per-thread tile, and added into every token's output
     * two tokens at a time ({@link TileAxpy}); the threads split the columns in whole blocks, so no two
     * write the same output. Tokens whose four coefficients are all zero (a ReLU that stayed
     * silent) are skipped.
     */
    public static void axpyBatch(Parallel p, WeightTensor w, float[] a, int batch, float[] out) {
        int rows = w.rows(), cols = w.cols();
        if (batch < 0) throw new IllegalArgumentException("batch must be >= 0, got " + batch);
        Checks.span("a", a, 0, (long) batch * rows);
        Checks.span("out", out, 0, (long) batch * cols);
        if (batch == 0 || rows == 0) return;
        RowKernel k = RowKernel.forType(w.type());
        int unit = w.type().blockSize;
        while (unit < 256 && cols % (unit * 2) == 0) unit *= 2;
        int u = unit;
        MemorySegment s = w.data();
        long rb = w.rowBytes();
        GgmlType type = w.type();
        run(p, cols / unit, (long) rows * cols * batch, (from, to) -> {
            int c0 = from * u, n = (to - from) * u;
            long cOff = type.bytesFor(c0);
            float[] tile = MatMul.grow(AXPY_TILE.get(), 0, 4L * n);
            int r = 0;
            for (; r + 3 < rows; r += 4) {
                for (int i = 0; i < 4; i++) k.dequant(s, (r + i) * rb + cOff, n, tile, i * n);
                int b = 0;
                for (; b + 1 < batch; b += 2) {
                    int ia = b * rows + r, ib = ia + rows;
                    float a0 = a[ia], a1 = a[ia + 1], a2 = a[ia + 2], a3 = a[ia + 3];
                    float b0 = a[ib], b1 = a[ib + 1], b2 = a[ib + 2], b3 = a[ib + 3];
                    boolean za = a0 == 0f && a1 == 0f && a2 == 0f && a3 == 0f;
                    boolean zb = b0 == 0f && b1 == 0f && b2 == 0f && b3 == 0f;
                    if (!za && !zb) {
                        TileAxpy.axpy4x2(tile, n, n, a0, a1, a2, a3, out, b * cols + c0, b0, b1, b2, b3, (b + 1) * cols + c0);
                    } else if (!za) {
                        TileAxpy.axpy4(tile, n, n, a0, a1, a2, a3, out, b * cols + c0);
                    } else if (!zb) {
                        TileAxpy.axpy4(tile, n, n, b0, b1, b2, b3, out, (b + 1) * cols + c0);
                    }
                }
                if (b < batch) {
                    int ia = b * rows + r;
                    if (a[ia] != 0f || a[ia + 1] != 0f || a[ia + 2] != 0f || a[ia + 3] != 0f) {
                        TileAxpy.axpy4(tile, n, n, a[ia], a[ia + 1], a[ia + 2], a[ia + 3], out, b * cols + c0);
                    }
                }
            }
            for (; r < rows; r++) {
                k.dequant(s, r * rb + cOff, n, tile, 0);
                for (int b = 0; b < batch; b++) {
                    float c = a[b * rows + r];
                    if (c != 0f) TileAxpy.axpy(tile, 0, n, c, out, b * cols + c0);
                }
            }
        });
    }

    /** Per thread, {@link #axpyBatch}'s decoded rows. */
    private static final ThreadLocal<float[][]> AXPY_TILE = ThreadLocal.withInitial(() -> new float[1][0]);

    /** Runs {@code body} over {@code [0, n)} on the pool, or inline when the work is too small for a hand-off. */
    static void run(Parallel p, int n, long work, Parallel.RangeBody body) {
        if (p == null || p.threads() == 1 || work < PARALLEL_MIN_ELEMENTS) {
            body.run(0, n);
        } else {
            p.forRange(n, ROW_GRAIN, body);
        }
    }

    /** A pick outside the tensor fails here, naming the tensor, before a kernel touches the segment. */
    private static void checkRows(WeightTensor w, int[] rows, int count) {
        int nRows = w.rows();
        for (int i = 0; i < count; i++) {
            if (rows[i] < 0 || rows[i] >= nRows) {
                throw new IndexOutOfBoundsException("rows[" + i + "] = " + rows[i] + " outside tensor "
                        + w.name() + " with " + nRows + " rows");
            }
        }
    }
}
