package io.flashllm.engine.model;

import io.flashllm.kernels.GgmlType;

/**
 * Element type of the KV cache, as llama.cpp's {@code --cache-type-k/-v}: F32 is exact, F16 halves
 * its memory for a rounding of keys and values, Q8_0 takes 34 bytes per 32 values (53% of F16) for
 * a per-block 8-bit quantization (each head's keys and values must be whole blocks: a head size
 * that is a multiple of 32, as in every Llama-family model).
 */
public enum KvCacheType {
    F32(GgmlType.F32), F16(GgmlType.F16), Q8_0(GgmlType.Q8_0);

    /** How the cache stores a row: the kernels read it as a weight row of this type. */
    public final GgmlType stored;

    KvCacheType(GgmlType stored) {
        this.stored = stored;
    }

    /** The type named {@code name} (any case, as {@code --kv-type} takes it). */
    public static KvCacheType parse(String name) {
        for (KvCacheType t : values()) {
            if (t.name().equalsIgnoreCase(name.trim())) return t;
        }
        throw new IllegalArgumentException("kv-type must be f16, f32 or q8_0, not '" + name + "'");
    }

    /** Bytes of {@code elements} consecutive values (a whole number of blocks). */
    public long rowBytes(int elements) {
        long bytes = stored.bytesFor(elements);
        if (bytes < 0) {
            throw new IllegalArgumentException("a " + this + " KV cache stores blocks of " + stored.blockSize
                    + " values; " + elements + " is not a whole number of them");
        }
        return bytes;
    }

    /** Refuses a model whose attention heads of {@code headDim} values are not whole blocks of this type. */
    public void requireFits(int headDim) {
        if (headDim % stored.blockSize != 0) {
            throw new IllegalArgumentException("a " + this + " KV cache stores blocks of " + stored.blockSize
                    + " values, and this model's attention heads have " + headDim + ": use --kv-type f16");
        }
    }
}
