package io.flashllm.flashstore.safetensors;

import io.flashllm.kernels.GgmlType;

/**
 * Every dtype the safetensors format defines, with its size in bits, so offsets can be validated
 * for all tensors; only F32, F16 and BF16 map onto a {@link GgmlType} flashllm computes with.
 */
public enum SafetensorsDtype {
    BOOL(8, null), U8(8, null), I8(8, null), F8_E5M2(8, null), F8_E4M3(8, null), F8_E8M0(8, null),
    F4(4, null), F6_E2M3(6, null), F6_E3M2(6, null),
    I16(16, null), U16(16, null), F16(16, GgmlType.F16), BF16(16, GgmlType.BF16),
    I32(32, null), U32(32, null), F32(32, GgmlType.F32),
    F64(64, null), I64(64, null), U64(64, null), C64(64, null);

    public final int bits;
    /** The ggml type flashllm computes this dtype as, or null when unsupported. */
    public final GgmlType ggmlType;

    SafetensorsDtype(int bits, GgmlType ggmlType) {
        this.bits = bits;
        this.ggmlType = ggmlType;
    }

    /** The dtype spelled {@code name}, or null when safetensors defines none such. */
    public static SafetensorsDtype parse(String name) {
        for (SafetensorsDtype d : values()) {
            if (d.name().equals(name)) return d;
        }
        return null;
    }

    /** Bytes of {@code elements} elements, or -1 on overflow or a partial byte. */
    public long bytesFor(long elements) {
        if (elements < 0 || elements > Long.MAX_VALUE / bits) return -1;
        long b = elements * bits;
        return b % 8 == 0 ? b / 8 : -1;
    }
}
