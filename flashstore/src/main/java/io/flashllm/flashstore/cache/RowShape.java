package io.flashllm.flashstore.cache;

import io.flashllm.kernels.GgmlType;

/** The encoding and length of one kind of row kept per neuron (gate row, up row, down column). */
public record RowShape(String name, GgmlType type, int elements) {
    public long rowBytes() {
        return type.bytesFor(elements);
    }
}
