package io.flashllm.engine.model;

/** Element type of the KV cache: F32 is exact, F16 halves its memory for a rounding of keys and values. */
public enum KvCacheType {
    F32(4), F16(2);

    public final int bytes;

    KvCacheType(int bytes) {
        this.bytes = bytes;
    }
}
