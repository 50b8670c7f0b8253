package io.flashllm.kernels;

import io.flashllm.kernels.cpu.PanelKernel;
import io.flashllm.kernels.cpu.PanelKernel256;
import io.flashllm.kernels.cpu.PanelKernel8;
import io.flashllm.kernels.cpu.RowKernel;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Weight matrix times a batch of activations (prompt processing), blocked like a GEMM:
 * <ol>
 *   <li>the batch is transposed once into {@code xT[col * p + token]} ({@code p} = the batch
 *       rounded up to eight tokens, the padding zero), so that one vector holds as many tokens' values of
 *       the same column (16 or 32 tokens at a time at 512 bits, the last eight in a 256-bit vector; 8 or 16
 *       at 256 bits);</li>
 *   <li>rows are taken twelve at a time (six at 256 bits: a panel), decoded {@link #columnBlock}
 *       columns at a time into a float buffer, and multiplied with the activations by
 *       {@link PanelKernel} ({@link PanelKernel256});</li>
 *   <li>the column blocks are the outer loop of each thread's share of panels, so the activation
 *       block (at most 512 KiB: 2048 columns x 64 tokens) stays in L2 while every panel of the share uses
 *       it; partial sums wait in {@code outT[row * p + token]} between blocks;</li>
 *   <li>{@code outT} is transposed back into the caller's {@code out[token * rows + row]}.</li>
 * </ol>
 * Each weight block is read and decoded once per call, whatever the batch. Scratch arrays belong
 * to the calling thread (the activations) and to each worker (the decoded panel), grown to the
 * largest call seen and then reused, so a call allocates only its loop bodies.
 */
final class MatMul {
    /**
     * Bytes of transposed activations one column block may take: a quarter of a 2 MiB L2, so the
     * block stays in L2 beside the decoded panel while every panel of a thread's share uses it.
     */
    static final int X_BLOCK_BYTES = 512 << 10;
    /** Column blocks are a multiple of this: every block size (256 for the K-quants) divides it. */
    static final int K_ALIGN = 256;
    /** Below this batch the padded token vectors (16 or 8 lanes) would waste more than the panel kernel gains. */
    static final int MIN_BATCH = 8;

    /** The panel kernels of this vector width: {@link PanelKernel} at 512 bits, else {@link PanelKernel256}. */
    private static final boolean WIDE = PanelKernel.usable();
    private static final int ROWS = WIDE ? PanelKernel.ROWS : PanelKernel256.ROWS;
    private static final int LANES = WIDE ? PanelKernel.LANES : PanelKernel256.LANES;

    private static final ThreadLocal<float[][]> CALLER_SCRATCH = ThreadLocal.withInitial(() -> new float[2][0]);
    private static final ThreadLocal<float[][]> PANEL = ThreadLocal.withInitial(() -> new float[1][0]);

    private MatMul() {}

    /** Whether {@link #matmul} handles a batch of this size on this machine. */
    static boolean applies(int batch) {
        return batch >= MIN_BATCH && (PanelKernel.usable() || PanelKernel256.usable());
    }

    /** {@code out[b*rows + r] = W[r] . x[b*cols ..]}; arguments already checked by the caller. */
    static void matmul(Parallel p, WeightTensor w, float[] x, int batch, float[] out) {
        int rows = w.rows(), cols = w.cols();
        int pw = paddedBatch(batch);
        int panels = (rows + ROWS - 1) / ROWS;
        float[][] scratch = CALLER_SCRATCH.get();
        float[] xT = grow(scratch, 0, (long) cols * pw);
        float[] outT = grow(scratch, 1, (long) panels * ROWS * pw);

        int colChunks = (cols + 63) / 64;
        MatVec.run(p, colChunks, (long) cols * pw, (from, to) -> transposeIn(x, batch, cols, pw, xT, from * 64, Math.min(cols, to * 64)));

        RowKernel k = RowKernel.forType(w.type());
        MemorySegment s = w.data();
        long rb = w.rowBytes();
        GgmlType type = w.type();
        int kBlock = columnBlock(cols, pw);
        MatVec.run(p, panels, (long) rows * cols * batch, (from, to) -> {
            float[] panel = grow(PANEL.get(), 0, (long) ROWS * kBlock);
            for (int kb = 0; kb < cols; kb += kBlock) {
                int kLen = Math.min(kBlock, cols - kb);
                long byteOff = (long) (kb / type.blockSize) * type.blockBytes;
                for (int pn = from; pn < to; pn++) {
                    int r0 = pn * ROWS;
                    int n = Math.min(ROWS, rows - r0);
                    for (int i = 0; i < n; i++) k.dequant(s, (r0 + i) * rb + byteOff, kLen, panel, i * kLen);
                    if (n < ROWS) Arrays.fill(panel, n * kLen, ROWS * kLen, 0f);
                    int c = 0;
                    int accOff = r0 * pw;
                    int xOff = kb * pw;
                    for (; c + 2 * LANES <= pw; c += 2 * LANES) {
                        if (WIDE) PanelKernel.rows12x32(panel, kLen, xT, xOff + c, pw, outT, accOff + c, kb == 0);
                        else PanelKernel256.rows6x16(panel, kLen, xT, xOff + c, pw, outT, accOff + c, kb == 0);
                    }
                    if (WIDE) {
                        if (c + LANES <= pw) {
                            PanelKernel.rows12x16(panel, kLen, xT, xOff + c, pw, outT, accOff + c, kb == 0);
                            c += LANES;
                        }
                        if (c < pw) PanelKernel8.rows12x8(panel, kLen, xT, xOff + c, pw, outT, accOff + c, kb == 0);
                    } else if (c < pw) {
                        PanelKernel256.rows6x8(panel, kLen, xT, xOff + c, pw, outT, accOff + c, kb == 0);
                    }
                }
            }
            int rEnd = Math.min(rows, to * ROWS);
            for (int b = 0; b < batch; b++) {
                int o = b * rows;
                for (int r = from * ROWS; r < rEnd; r++) out[o + r] = outT[r * pw + b];
            }
        });
    }

    /**
     * The batch rounded up to whole vectors of tokens: to eight at 256 bits (pairs of eight-lane vectors, and one
     * for a last 1-8); at 512 bits to 32 (pairs of sixteen-lane vectors), except that a last 1-8 tokens take one eight-lane
     * vector ({@link PanelKernel8}) and a last 9-16 one sixteen-lane vector. Eight tokens in a sixteen-lane
     * vector spent half of each multiply-add on zeros (a batch of 8 took as long as one of 16); a last 17-24 stay
     * in a pair of sixteen-lane vectors, which broadcasts each weight once for both (24 tokens as 16 + 8 were
     * 6% slower).
     */
    static int paddedBatch(int batch) {
        if (!WIDE) return (batch + LANES - 1) / LANES * LANES;
        int rest = batch % (2 * LANES);
        int whole = batch - rest;
        if (rest == 0) return whole;
        return whole + (rest <= PanelKernel8.LANES ? PanelKernel8.LANES : rest <= LANES ? LANES : 2 * LANES);
    }

    /**
     * Columns decoded per pass. As many as keep the activation block within {@link #X_BLOCK_BYTES}:
     * when a pass covers whole rows, a panel's twelve rows are one contiguous run of memory, which
     * the hardware prefetcher streams; 1024-column halves of a 2048-column Q8_0 matrix were twelve
     * 1 KiB runs, and decoding them from DRAM ran at 4.1 G weights/s against 6.7 for whole rows.
     */
    static int columnBlock(int cols, int pw) {
        int k = Math.max(K_ALIGN, X_BLOCK_BYTES / (pw * Float.BYTES) / K_ALIGN * K_ALIGN);
        return Math.min(k, cols);
    }

    /** {@code xT[c * pw + b] = x[b * cols + c]} for columns {@code [c0, c1)}; padding tokens zero. */
    private static void transposeIn(float[] x, int batch, int cols, int pw, float[] xT, int c0, int c1) {
        for (int b = 0; b < batch; b++) {
            int xo = b * cols;
            for (int c = c0; c < c1; c++) xT[c * pw + b] = x[xo + c];
        }
        if (batch < pw) {
            for (int c = c0; c < c1; c++) Arrays.fill(xT, c * pw + batch, (c + 1) * pw, 0f);
        }
    }

    /** {@code scratch[i]}, grown to at least {@code size} floats (scratch kept per thread and reused). */
    static float[] grow(float[][] scratch, int i, long size) {
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("batch too large for one product: " + size + " scratch floats");
        }
        if (scratch[i].length < size) scratch[i] = new float[(int) size];
        return scratch[i];
    }
}
