package io.flashllm.flashstore.bundle;

/** The pieces of one FFN neuron stored in a bundle, in the order they sit on disk. */
public enum Part {
    /** Row j of the gate matrix (gated FFNs whose gates are not kept in DRAM). */
    GATE,
    /** Row j of the up matrix. */
    UP,
    /** Column j of the down matrix, stored as a row (length = model dim). */
    DOWN
}
