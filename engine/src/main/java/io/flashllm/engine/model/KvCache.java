package io.flashllm.engine.model;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.cpu.RowKernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Keys and values of every position seen so far, off-heap: per layer a block of keys
 * {@code [position][kvDim]} and one of values, allocated once for the whole context and freed by
 * {@link #close()}. Shared arena, because the worker threads of the attention loop read it.
 */
public final class KvCache implements AutoCloseable {
    // Little-endian like the weight files, so the kernels' F32/F16 row routines read the cache as they read weights.
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena = Arena.ofShared();
    private final MemorySegment memory;
    private final KvCacheType type;
    private final RowKernel rowKernel;
    private final int layers;
    private final int contextLength;
    private final int kvDim;
    private final long rowBytes;
    private final long layerBytes;

    public KvCache(KvCacheType type, int layers, int contextLength, int kvDim) {
        this.type = type;
        this.rowKernel = RowKernel.forType(type == KvCacheType.F32 ? GgmlType.F32 : GgmlType.F16);
        this.layers = layers;
        this.contextLength = contextLength;
        this.kvDim = kvDim;
        this.rowBytes = (long) kvDim * type.bytes;
        this.layerBytes = 2 * rowBytes * contextLength;
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

    /** Byte offset of the key row of {@code pos} in {@code layer}; the value row is {@link #valueOffset}. */
    long keyOffset(int layer, int pos) {
        return layer * layerBytes + pos * rowBytes;
    }

    long valueOffset(int layer, int pos) {
        return layer * layerBytes + (contextLength + (long) pos) * rowBytes;
    }

    MemorySegment memory() {
        return memory;
    }

    RowKernel rowKernel() {
        return rowKernel;
    }

    /** Stores the key and value of one position (each kvDim floats). */
    public void store(int layer, int pos, float[] key, int keyOff, float[] value, int valueOff) {
        if (pos < 0 || pos >= contextLength || layer < 0 || layer >= layers) {
            throw new IndexOutOfBoundsException("position " + pos + " of layer " + layer + " outside a cache of "
                    + contextLength + " positions and " + layers + " layers");
        }
        write(keyOffset(layer, pos), key, keyOff);
        write(valueOffset(layer, pos), value, valueOff);
    }

    private void write(long at, float[] src, int off) {
        if (type == KvCacheType.F32) {
            MemorySegment.copy(src, off, memory, F32, at, kvDim);
        } else {
            for (int i = 0; i < kvDim; i++) memory.set(F16, at + 2L * i, Float.floatToFloat16(src[off + i]));
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
