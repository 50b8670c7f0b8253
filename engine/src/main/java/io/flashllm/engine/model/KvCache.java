package io.flashllm.engine.model;

import io.flashllm.kernels.RowEncoder;
import io.flashllm.kernels.cpu.RowKernel;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * Keys and values of every position seen so far, off-heap: per layer a block of keys
 * {@code [kvHead][position][headDim]} and one of values, allocated once for the whole context and
 * freed by {@link #close()}. Head-major, so that attention, which reads one kv head over every
 * position, reads a run of consecutive rows: laid out position by position, a head's rows were
 * 128-256 bytes a kilobyte or two apart, and reading them from DRAM ran at ~1.5 GB/s
 * ({@link AttentionBench}, docs/benchmarks.md §1, session 53). Shared arena, because the worker threads of the attention loop read it. Rows are
 * stored in the cache's {@link KvCacheType} and read back by the kernels' row routine for it.
 */
public final class KvCache implements AutoCloseable {
    // Little-endian like the weight files, so the kernels' row routines read the cache as they read weights.
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena = Arena.ofShared();
    private final MemorySegment memory;
    private final KvCacheType type;
    private final RowKernel rowKernel;
    private final int layers;
    private final int contextLength;
    private final int kvDim;
    private final int headDim;
    private final int kvHeads;
    /** Bytes of one kv head's row (headDim values) and of one kv head's rows over the whole context. */
    private final long headRowBytes, headBytes;
    private final long rowBytes;
    private final long layerBytes;

    /** A cache of {@code kvDim = kvHeads * headDim} values per position and layer; Q8_0 needs heads of whole blocks. */
    public KvCache(KvCacheType type, int layers, int contextLength, int kvDim, int headDim) {
        if (headDim < 1 || kvDim % headDim != 0) {
            throw new IllegalArgumentException("kvDim " + kvDim + " is not a whole number of heads of " + headDim);
        }
        type.requireFits(headDim);
        this.type = type;
        this.rowKernel = RowKernel.forType(type.stored);
        this.layers = layers;
        this.contextLength = contextLength;
        this.kvDim = kvDim;
        this.headDim = headDim;
        this.kvHeads = kvDim / headDim;
        this.headRowBytes = type.rowBytes(headDim);
        this.headBytes = headRowBytes * contextLength;
        this.rowBytes = type.rowBytes(kvDim);
        this.layerBytes = 2 * kvHeads * headBytes;
        this.memory = arena.allocate(layerBytes * layers, 64);
    }

    public KvCacheType type() {
        return type;
    }

    public int contextLength() {
        return contextLength;
    }

    public int kvDim() {
        return kvDim;
    }

    public long byteSize() {
        return memory.byteSize();
    }

    /** Byte offset of kv head {@code kvHead}'s key row (with {@code values}, value row) of {@code pos} in {@code layer}. */
    long rowOffset(int layer, boolean values, int kvHead, int pos) {
        return layer * layerBytes + ((values ? kvHeads : 0) + kvHead) * headBytes + pos * headRowBytes;
    }

    MemorySegment memory() {
        return memory;
    }

    RowKernel rowKernel() {
        return rowKernel;
    }

    /**
     * Rows {@code first .. first + n - 1} of kv head {@code kvHead}'s keys (or, with {@code values}, its
     * values) in {@code layer}, widened to floats at {@code dst[dstOff + p * headDim]}: one run of the
     * cache, so one call of the kernels' row routine (for F16 on Intel CPUs, its buffered conversion
     * by the CPU's instruction, once the run is 1,024 values long).
     */
    void widenRows(boolean values, int layer, int kvHead, int first, int n, float[] dst, int dstOff) {
        rowKernel.dequant(memory, rowOffset(layer, values, kvHead, first), n * headDim, dst, dstOff);
    }

    /** Stores the key and value of one position (each kvDim floats). */
    public void store(int layer, int pos, float[] key, int keyOff, float[] value, int valueOff) {
        if (pos < 0 || pos >= contextLength || layer < 0 || layer >= layers) {
            throw new IndexOutOfBoundsException("position " + pos + " of layer " + layer + " outside a cache of "
                    + contextLength + " positions and " + layers + " layers");
        }
        for (int h = 0; h < kvHeads; h++) {
            write(rowOffset(layer, false, h, pos), key, keyOff + h * headDim);
            write(rowOffset(layer, true, h, pos), value, valueOff + h * headDim);
        }
    }

    /** One kv head's row, headDim values from {@code src[off]}. */
    private void write(long at, float[] src, int off) {
        if (type == KvCacheType.F32) {
            MemorySegment.copy(src, off, memory, F32, at, headDim);
        } else {
            RowEncoder.encode(type.stored, src, off, headDim, memory, at);
        }
    }

    /** Bytes {@link #writeTo} writes for {@code positions} positions: keys and values of every layer. */
    public long bytesFor(int positions) {
        return 2L * layers * rowBytes * positions;
    }

    /**
     * Writes the keys and values of positions {@code 0..positions-1} as the cache holds them (per layer,
     * the keys then the values, kv head by kv head), straight from the off-heap cache, and adds them to
     * {@code crc}.
     */
    public void writeTo(FileChannel out, int positions, CRC32C crc) throws IOException {
        for (int l = 0; l < layers; l++) {
            for (int part = 0; part < 2 * kvHeads; part++) {
                MemorySegment rows = memory.asSlice(rowOffset(l, part >= kvHeads, part % kvHeads, 0), headRowBytes * positions);
                crc.update(rows.asByteBuffer());
                ByteBuffer b = rows.asByteBuffer();
                while (b.hasRemaining()) out.write(b);
            }
        }
    }

    /** Reads what {@link #writeTo} wrote for {@code positions} positions into the cache, adding it to {@code crc}. */
    public void readFrom(FileChannel in, int positions, CRC32C crc) throws IOException {
        if (positions < 0 || positions > contextLength) {
            throw new IOException(positions + " positions do not fit a cache of " + contextLength);
        }
        for (int l = 0; l < layers; l++) {
            for (int part = 0; part < 2 * kvHeads; part++) {
                MemorySegment rows = memory.asSlice(rowOffset(l, part >= kvHeads, part % kvHeads, 0), headRowBytes * positions);
                ByteBuffer b = rows.asByteBuffer();
                while (b.hasRemaining()) {
                    if (in.read(b) < 0) throw new IOException("the file ends inside the keys and values");
                }
                crc.update(rows.asByteBuffer());
            }
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
