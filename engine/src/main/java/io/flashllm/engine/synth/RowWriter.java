package io.flashllm.engine.synth;

import io.flashllm.flashstore.writer.Quantizer;
import io.flashllm.flashstore.writer.SequentialOutput;
import io.flashllm.flashstore.writer.TensorSource;
import io.flashllm.kernels.GgmlType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Generates and encodes tensors a chunk of rows at a time, the rows of a chunk split across
 * worker threads, and hands each finished chunk to the file as one big write. Memory stays at one
 * chunk (a few MiB) whatever the model size.
 */
final class RowWriter implements AutoCloseable {
    private static final int CHUNK_BYTES = 8 << 20;

    private final long seed;
    private final int threads;
    private final ExecutorService pool;
    private final ByteBuffer chunk;
    private long bytesWritten;

    RowWriter(long seed, int threads) {
        this.seed = seed;
        this.threads = Math.max(1, threads);
        this.pool = Executors.newFixedThreadPool(this.threads, r -> {
            Thread t = new Thread(r, "synth-worker");
            t.setDaemon(true);
            return t;
        });
        this.chunk = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    }

    long bytesWritten() {
        return bytesWritten;
    }

    /** The tensor in GGUF row order (q/k permuted) and encoding. */
    TensorSource gguf(SynthTensor t) {
        return out -> write(t, t.ggufType(), true, out);
    }

    /** The tensor in HF row order and encoding. */
    TensorSource hf(SynthTensor t) {
        return out -> write(t, t.hfType(), false, out);
    }

    private void write(SynthTensor t, GgmlType type, boolean ggufOrder, SequentialOutput out) throws IOException {
        long tensorSeed = WeightGen.tensorSeed(seed, t.hfName());
        int rowBytes = Math.toIntExact(type.bytesFor(t.cols()));
        if (rowBytes > CHUNK_BYTES) throw new IllegalArgumentException("row of " + t.hfName() + " too large");
        int rowsPerChunk = (int) Math.min(t.rows(), CHUNK_BYTES / rowBytes);
        for (long first = 0; first < t.rows(); first += rowsPerChunk) {
            int n = (int) Math.min(rowsPerChunk, t.rows() - first);
            fillChunk(t, type, ggufOrder, tensorSeed, first, n, rowBytes);
            chunk.position(0).limit(n * rowBytes);
            out.put(chunk);
            chunk.clear();
            bytesWritten += (long) n * rowBytes;
        }
    }

    private void fillChunk(SynthTensor t, GgmlType type, boolean ggufOrder, long tensorSeed,
                           long first, int n, int rowBytes) throws IOException {
        int parts = n < 2 * threads ? 1 : threads;
        List<Future<?>> futures = new ArrayList<>(parts);
        for (int p = 0; p < parts; p++) {
            int from = (int) ((long) n * p / parts), to = (int) ((long) n * (p + 1) / parts);
            Runnable task = () -> {
                float[] row = new float[t.cols()];
                ByteBuffer dst = chunk.duplicate().order(ByteOrder.LITTLE_ENDIAN);
                for (int i = from; i < to; i++) {
                    long fileRow = first + i;
                    long hfRow = ggufOrder ? t.hfRowOfGgufRow(fileRow) : fileRow;
                    WeightGen.fill(t, tensorSeed, hfRow, row);
                    dst.position(i * rowBytes);
                    Quantizer.quantize(type, row, 0, t.cols(), dst);
                }
            };
            futures.add(parts == 1 ? null : pool.submit(task));
            if (parts == 1) task.run();
        }
        for (Future<?> f : futures) {
            if (f == null) continue;
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while synthesizing " + t.hfName(), e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re) throw re;
                if (e.getCause() instanceof Error err) throw err;
                throw new UncheckedIOException(new IOException(e.getCause()));
            }
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
