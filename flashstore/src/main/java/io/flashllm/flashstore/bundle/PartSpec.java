package io.flashllm.flashstore.bundle;

import io.flashllm.kernels.GgmlType;

/** One part of every neuron in a layer: its encoding and length in elements. */
public record PartSpec(Part part, GgmlType type, int elements) {
    public PartSpec {
        if (type.bytesFor(elements) <= 0) {
            throw new IllegalArgumentException(part + ": " + elements + " elements are not whole " + type + " blocks");
        }
    }

    public long rowBytes() {
        return type.bytesFor(elements);
    }
}
