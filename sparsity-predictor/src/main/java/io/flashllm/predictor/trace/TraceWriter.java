package io.flashllm.predictor.trace;

import io.flashllm.predictor.PredictorException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Appends (x, true mask) records to one layer's trace file, one checksummed chunk at a time, so the
 * memory it holds is one chunk whatever the length of the calibration run.
 */
public final class TraceWriter implements AutoCloseable {
    private final Path file;
    private final TraceHeader header;
    private final FileChannel ch;
    private final ByteBuffer payload;
    private final ByteBuffer chunkHeader = ByteBuffer.allocate(TraceFormat.CHUNK_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C crc = new CRC32C();
    private int pending;
    private int chunks;
    private long records;
    private boolean closed;

    public TraceWriter(Path file, TraceHeader header) {
        this.file = file;
        this.header = header;
        long chunkBytes = header.recordBytes() * header.chunkRecords();
        if (chunkBytes > Integer.MAX_VALUE - 64) throw new PredictorException(file, "trace chunk of " + chunkBytes + " bytes is too large");
        this.payload = ByteBuffer.allocateDirect((int) chunkBytes).order(ByteOrder.LITTLE_ENDIAN);
        try {
            this.ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
            writeFully(header.encode());
        } catch (IOException e) {
            throw new PredictorException(file, "cannot be written: " + e.getMessage(), e);
        }
    }

    public TraceHeader header() {
        return header;
    }

    public Path file() {
        return file;
    }

    public long records() {
        return records + pending;
    }

    /** Appends one record: {@code x[xOff..xOff+dim)} and the mask words {@code mask[0..maskWords)}. */
    public void append(float[] x, int xOff, long[] mask) {
        if (closed) throw new IllegalStateException(file + ": trace writer is closed");
        int dim = header.dim();
        if (header.xType() == TraceFormat.XType.F32) {
            for (int i = 0; i < dim; i++) payload.putFloat(x[xOff + i]);
        } else {
            for (int i = 0; i < dim; i++) payload.putShort(Float.floatToFloat16(x[xOff + i]));
        }
        int words = header.maskWords();
        for (int w = 0; w < words; w++) payload.putLong(mask[w]);
        if (++pending == header.chunkRecords()) flushChunk();
    }

    private void flushChunk() {
        if (pending == 0) return;
        payload.flip();
        crc.reset();
        crc.update(payload.duplicate());
        chunkHeader.clear();
        chunkHeader.putInt(TraceFormat.CHUNK_MAGIC).putInt(pending).putInt(payload.remaining()).putInt((int) crc.getValue()).flip();
        try {
            writeFully(chunkHeader);
            writeFully(payload);
        } catch (IOException e) {
            throw new PredictorException(file, "cannot be written: " + e.getMessage(), e);
        }
        payload.clear();
        records += pending;
        pending = 0;
        chunks++;
    }

    private void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** Writes the last chunk and the end record and forces the file to disk. */
    @Override
    public void close() {
        if (closed) return;
        try {
            flushChunk();
            ByteBuffer end = ByteBuffer.allocate(TraceFormat.END_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            end.putInt(TraceFormat.END_MAGIC).putInt(chunks).putLong(records);
            CRC32C c = new CRC32C();
            c.update(end.array(), 0, 16);
            end.putInt((int) c.getValue()).putInt(0).flip();
            writeFully(end);
            ch.force(true);
        } catch (IOException e) {
            throw new PredictorException(file, "cannot be written: " + e.getMessage(), e);
        } finally {
            closed = true;
            try {
                ch.close();
            } catch (IOException ignored) {
                // the data is forced or the failure already reported
            }
        }
    }
}
