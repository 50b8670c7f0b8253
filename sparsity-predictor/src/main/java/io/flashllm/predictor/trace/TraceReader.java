package io.flashllm.predictor.trace;

import io.flashllm.predictor.PredictorException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Reads one layer's trace file. Opening checks the header, walks the chunk headers (not their
 * payloads) and checks the end record, so a truncated or unfinished file is refused up front;
 * each chunk's payload CRC is checked when a {@link Cursor} reads it. Nothing beyond one chunk is
 * held in memory.
 */
public final class TraceReader implements AutoCloseable {
    private final Path file;
    private final FileChannel ch;
    private final TraceHeader header;
    private final long[] chunkOffsets;
    private final int[] chunkRecords;
    private final long records;

    private TraceReader(Path file, FileChannel ch, TraceHeader header, long[] chunkOffsets, int[] chunkRecords, long records) {
        this.file = file;
        this.ch = ch;
        this.header = header;
        this.chunkOffsets = chunkOffsets;
        this.chunkRecords = chunkRecords;
        this.records = records;
    }

    public static TraceReader open(Path file) {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new PredictorException(file, "missing trace file");
        } catch (IOException e) {
            throw new PredictorException(file, "cannot be read: " + e.getMessage(), e);
        }
        try {
            return scan(file, ch);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        } catch (IOException e) {
            closeQuietly(ch);
            throw new PredictorException(file, "cannot be read: " + e.getMessage(), e);
        }
    }

    private static TraceReader scan(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < TraceFormat.HEADER_BYTES) throw new PredictorException(file, "too short for a trace header (truncated)");
        ByteBuffer hb = ByteBuffer.allocate(TraceFormat.HEADER_BYTES);
        readFully(ch, hb, 0);
        TraceHeader h = TraceHeader.decode(file, hb.flip());
        long expectPayload = h.recordBytes();
        ByteBuffer chb = ByteBuffer.allocate(TraceFormat.CHUNK_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        long pos = TraceFormat.HEADER_BYTES;
        int n = 0;
        long[] offsets = new long[16];
        int[] counts = new int[16];
        long total = 0;
        while (true) {
            if (pos + 4 > size) {
                throw new PredictorException(file, "incomplete trace (no end record at byte " + pos
                        + "): the recording was interrupted or the file truncated");
            }
            chb.clear();
            chb.limit(4);
            readFully(ch, chb, pos);
            int magic = chb.getInt(0);
            if (magic == TraceFormat.END_MAGIC) break;
            if (magic != TraceFormat.CHUNK_MAGIC) throw new PredictorException(file, "damaged trace: no chunk marker at byte " + pos);
            if (pos + TraceFormat.CHUNK_HEADER_BYTES > size) throw new PredictorException(file, "truncated inside a chunk header at byte " + pos);
            chb.clear();
            readFully(ch, chb, pos);
            int recs = chb.getInt(4);
            int bytes = chb.getInt(8);
            if (recs < 1 || recs > h.chunkRecords() || bytes != recs * expectPayload) {
                throw new PredictorException(file, "damaged trace: chunk at byte " + pos + " claims " + recs + " records in " + bytes + " bytes");
            }
            if (pos + TraceFormat.CHUNK_HEADER_BYTES + bytes > size) throw new PredictorException(file, "truncated inside the chunk at byte " + pos);
            if (n == offsets.length) {
                offsets = java.util.Arrays.copyOf(offsets, n * 2);
                counts = java.util.Arrays.copyOf(counts, n * 2);
            }
            offsets[n] = pos;
            counts[n] = recs;
            n++;
            total += recs;
            pos += TraceFormat.CHUNK_HEADER_BYTES + bytes;
        }
        if (pos + TraceFormat.END_BYTES != size) {
            throw new PredictorException(file, pos + TraceFormat.END_BYTES > size ? "truncated end record"
                    : "unexpected " + (size - pos - TraceFormat.END_BYTES) + " bytes after the end record");
        }
        ByteBuffer eb = ByteBuffer.allocate(TraceFormat.END_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, eb, pos);
        CRC32C c = new CRC32C();
        c.update(eb.array(), 0, 16);
        if ((int) c.getValue() != eb.getInt(16)) throw new PredictorException(file, "end record checksum mismatch (damaged)");
        if (eb.getInt(4) != n || eb.getLong(8) != total) {
            throw new PredictorException(file, "end record says " + eb.getInt(4) + " chunks / " + eb.getLong(8)
                    + " records, the file holds " + n + " / " + total);
        }
        return new TraceReader(file, ch, h, java.util.Arrays.copyOf(offsets, n), java.util.Arrays.copyOf(counts, n), total);
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos);
            if (r < 0) throw new IOException("unexpected end of file at byte " + pos);
            pos += r;
        }
    }

    public Path file() {
        return file;
    }

    public TraceHeader header() {
        return header;
    }

    public long records() {
        return records;
    }

    /** A fresh pass over the records from the first. */
    public Cursor cursor() {
        return new Cursor();
    }

    /** Sequential reader of records in mini-batches; holds one chunk in memory. */
    public final class Cursor {
        private final ByteBuffer buf;
        private final CRC32C crc = new CRC32C();
        private int chunk = -1;
        private int inChunk;
        private int leftInChunk;

        private Cursor() {
            buf = ByteBuffer.allocateDirect((int) (header.recordBytes() * header.chunkRecords())).order(ByteOrder.LITTLE_ENDIAN);
        }

        /**
         * Reads up to {@code max} records: x vectors into {@code x} (row-major, dim each, from row 0)
         * and masks into {@code masks} (maskWords each). Returns how many were read, 0 at the end.
         */
        public int next(float[] x, long[] masks, int max) {
            int dim = header.dim();
            int words = header.maskWords();
            if ((long) max * dim > x.length || (long) max * words > masks.length) {
                throw new IllegalArgumentException("buffers hold fewer than " + max + " records");
            }
            int got = 0;
            while (got < max) {
                if (leftInChunk == 0) {
                    if (chunk + 1 >= chunkOffsets.length) break;
                    loadChunk(++chunk);
                }
                int xo = got * dim;
                if (header.xType() == TraceFormat.XType.F32) {
                    for (int i = 0; i < dim; i++) x[xo + i] = buf.getFloat();
                } else {
                    for (int i = 0; i < dim; i++) x[xo + i] = Float.float16ToFloat(buf.getShort());
                }
                int mo = got * words;
                for (int w = 0; w < words; w++) masks[mo + w] = buf.getLong();
                inChunk++;
                leftInChunk--;
                got++;
            }
            return got;
        }

        private void loadChunk(int c) {
            long pos = chunkOffsets[c];
            buf.clear();
            buf.limit((int) (chunkRecords[c] * header.recordBytes()));
            try {
                ByteBuffer h = ByteBuffer.allocate(TraceFormat.CHUNK_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                readFully(ch, h, pos);
                readFully(ch, buf, pos + TraceFormat.CHUNK_HEADER_BYTES);
                buf.flip();
                crc.reset();
                crc.update(buf.duplicate());
                if ((int) crc.getValue() != h.getInt(12)) {
                    throw new PredictorException(file, "checksum mismatch in chunk " + c + " (bytes " + pos + ".."
                            + (pos + TraceFormat.CHUNK_HEADER_BYTES + buf.limit()) + "): the trace is damaged");
                }
            } catch (IOException e) {
                throw new PredictorException(file, "cannot be read: " + e.getMessage(), e);
            }
            inChunk = 0;
            leftInChunk = chunkRecords[c];
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing was read, nothing is lost
        }
    }

    @Override
    public void close() {
        closeQuietly(ch);
    }
}
