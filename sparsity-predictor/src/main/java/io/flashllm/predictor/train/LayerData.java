package io.flashllm.predictor.train;

import io.flashllm.predictor.trace.TraceReader;

/**
 * One layer's calibration records in memory for training: FFN inputs (row-major, dim each) and true
 * masks (words each). Only one layer is loaded at a time; a cap on records bounds the memory for
 * long traces of large models.
 */
public record LayerData(int dim, int neurons, int count, float[] x, long[] masks) {
    public int words() {
        return (neurons + 63) >>> 6;
    }

    public boolean active(int record, int neuron) {
        return (masks[record * words() + (neuron >>> 6)] & (1L << (neuron & 63))) != 0;
    }

    /** Reads at most {@code maxRecords} records (all when {@code <= 0}) from the start of the trace. */
    public static LayerData read(TraceReader reader, int maxRecords) {
        var h = reader.header();
        long total = reader.records();
        int count = (int) Math.min(total, maxRecords > 0 ? maxRecords : Integer.MAX_VALUE);
        if ((long) count * h.dim() > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(reader.file() + ": " + count + " records of " + h.dim()
                    + " floats do not fit one array; lower the token cap");
        }
        float[] x = new float[count * h.dim()];
        long[] masks = new long[count * h.maskWords()];
        TraceReader.Cursor c = reader.cursor();
        int got = 0;
        int batch = Math.max(1, h.chunkRecords());
        float[] bx = new float[batch * h.dim()];
        long[] bm = new long[batch * h.maskWords()];
        while (got < count) {
            int n = c.next(bx, bm, Math.min(batch, count - got));
            if (n == 0) break;
            System.arraycopy(bx, 0, x, got * h.dim(), n * h.dim());
            System.arraycopy(bm, 0, masks, got * h.maskWords(), n * h.maskWords());
            got += n;
        }
        return new LayerData(h.dim(), h.neurons(), got, x, masks);
    }
}
