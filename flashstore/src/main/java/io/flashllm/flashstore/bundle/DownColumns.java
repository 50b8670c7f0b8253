package io.flashllm.flashstore.bundle;

import io.flashllm.kernels.RowEncoder;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.Dequant;

import java.lang.foreign.MemorySegment;

/**
 * Column j of the down matrix (rows = model dim, cols = FFN neurons) is strided in the source; the
 * bundle stores it as one contiguous row. Columns are produced a chunk of neurons at a time: every
 * row is dequantized once per chunk and the chunk's slice transposed, so memory stays bounded
 * (about 64 MiB of floats) whatever the model size.
 */
final class DownColumns {
    private static final long CHUNK_FLOATS = 16L << 20;

    private final WeightTensor down;
    private final GgmlType storeAs;
    private final int dim;
    private final int neurons;
    private final int chunk;
    private final float[] rowScratch;
    private final float[] columns;
    private int chunkStart = -1;

    DownColumns(WeightTensor down, GgmlType storeAs) {
        this.down = down;
        this.storeAs = storeAs;
        this.dim = down.rows();
        this.neurons = down.cols();
        this.chunk = (int) Math.max(1, Math.min(neurons, CHUNK_FLOATS / dim));
        this.rowScratch = new float[neurons];
        this.columns = new float[chunk * dim];
    }

    long rowBytes() {
        return storeAs.bytesFor(dim);
    }

    /** Writes neuron {@code j}'s down column, encoded as {@code storeAs}, at {@code dst[off]}. */
    void write(int j, MemorySegment dst, long off) {
        if (chunkStart < 0 || j < chunkStart || j >= chunkStart + chunk) load(j / chunk * chunk);
        RowEncoder.encode(storeAs, columns, (j - chunkStart) * dim, dim, dst, off);
    }

    private void load(int start) {
        int end = Math.min(neurons, start + chunk);
        for (int r = 0; r < dim; r++) {
            Dequant.row(down, r, rowScratch, 0);
            for (int j = start; j < end; j++) columns[(j - start) * dim + r] = rowScratch[j];
        }
        chunkStart = start;
    }
}
