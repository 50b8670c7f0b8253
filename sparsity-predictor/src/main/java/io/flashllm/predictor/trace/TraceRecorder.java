package io.flashllm.predictor.trace;

import io.flashllm.flashstore.ffn.BatchedFeedForward;
import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.predictor.PredictorException;
import io.flashllm.predictor.math.Workers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A {@link FeedForward} decorator for calibration: runs the wrapped (dense) FFN unchanged and
 * records, per layer, the FFN input x and the true mask of firing neurons into the layer's trace
 * file. Inputs are buffered one chunk per layer; when a chunk fills, its masks are computed in one
 * pass over the layer's gate (or fc1) rows and the chunk is appended to disk, so memory stays at
 * one chunk per layer however long the calibration text is. Batches (prompt processing) go to the
 * wrapped FFN's batched path when it has one, so calibration runs at prefill speed.
 */
public final class TraceRecorder implements BatchedFeedForward {
    private final FeedForward delegate;
    private final ActivationOracle oracle;
    private final Workers workers;
    private final TraceWriter[] writers;
    private final float[][] xs;
    private final long[] masks;
    private final int[] buffered;
    private final int chunk;
    private final int dim;
    private final int words;
    private boolean closed;

    /**
     * Creates {@code dir} (if needed) and one trace file per layer in it.
     *
     * @param delegate the FFN that computes the model's output (dense)
     * @param oracle   the layer matrices that define the true masks
     * @param type     how x is stored (F16 halves the disk space at ~3 decimal digits)
     * @param workers  threads for the bulk mask computation
     */
    public TraceRecorder(FeedForward delegate, ActivationOracle oracle, Path dir, TraceFormat.XType type, int chunkRecords,
                         Workers workers) {
        this.delegate = delegate;
        this.oracle = oracle;
        this.workers = workers;
        this.chunk = chunkRecords;
        this.dim = oracle.dim();
        this.words = TraceFormat.maskWords(oracle.neurons());
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new PredictorException(dir, "cannot create the trace directory: " + e.getMessage(), e);
        }
        int layers = oracle.layers();
        this.writers = new TraceWriter[layers];
        this.xs = new float[layers][];
        this.buffered = new int[layers];
        this.masks = new long[chunkRecords * words];
        try {
            for (int l = 0; l < layers; l++) {
                writers[l] = new TraceWriter(dir.resolve(TraceFormat.layerFile(l)),
                        new TraceHeader(l, dim, oracle.neurons(), type, chunkRecords));
                xs[l] = new float[chunkRecords * dim];
            }
        } catch (RuntimeException e) {
            for (TraceWriter w : writers) if (w != null) w.close();
            throw e;
        }
    }

    @Override
    public void forward(int layer, float[] x, float[] out) {
        delegate.forward(layer, x, out);
        if (closed) throw new IllegalStateException("trace recorder is closed");
        int b = buffered[layer];
        System.arraycopy(x, 0, xs[layer], b * dim, dim);
        if (++buffered[layer] == chunk) flush(layer);
    }

    @Override
    public void forwardBatch(int layer, float[] x, int batch, float[] out) {
        if (delegate instanceof BatchedFeedForward b) {
            b.forwardBatch(layer, x, batch, out);
        } else {
            float[] one = new float[dim];
            float[] res = new float[dim];
            for (int t = 0; t < batch; t++) {
                System.arraycopy(x, t * dim, one, 0, dim);
                delegate.forward(layer, one, res);
                System.arraycopy(res, 0, out, t * dim, dim);
            }
        }
        if (closed) throw new IllegalStateException("trace recorder is closed");
        for (int t = 0; t < batch; t++) {
            System.arraycopy(x, t * dim, xs[layer], buffered[layer] * dim, dim);
            if (++buffered[layer] == chunk) flush(layer);
        }
    }

    private void flush(int layer) {
        int n = buffered[layer];
        if (n == 0) return;
        oracle.masks(layer, xs[layer], n, masks, workers);
        long[] one = new long[words];
        for (int t = 0; t < n; t++) {
            System.arraycopy(masks, t * words, one, 0, words);
            writers[layer].append(xs[layer], t * dim, one);
        }
        buffered[layer] = 0;
    }

    /** Records written so far for {@code layer} (including buffered ones). */
    public long records(int layer) {
        return writers[layer].records() + buffered[layer];
    }

    /** Writes what is buffered and finishes every trace file (the wrapped FFN is not closed). */
    public void finish() {
        if (closed) return;
        closed = true;
        RuntimeException first = null;
        for (int l = 0; l < writers.length; l++) {
            try {
                flush(l);
                writers[l].close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        if (first != null) throw first;
    }

    /** Finishes the traces and closes the wrapped FFN. */
    @Override
    public void close() {
        try {
            finish();
        } finally {
            delegate.close();
        }
    }
}
