package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.io.BlockFile;

import java.util.List;

/**
 * How one layer's neurons sit in its FFN file: each neuron's parts back to back, several neurons
 * per group when one is small so a read stays at least {@code minReadBytes}, and every group padded
 * to the direct-I/O alignment so any run of groups can be read with O_DIRECT.
 */
public record BundleLayout(List<PartSpec> parts, int neurons, int neuronsPerGroup, long groupBytes) {
    /** The direct-I/O alignment the groups are padded to: the one {@link BlockFile} reads with. */
    public static final int ALIGNMENT = BlockFile.ALIGNMENT;

    public BundleLayout {
        parts = List.copyOf(parts);
        if (parts.isEmpty()) throw new IllegalArgumentException("a bundle needs at least one part");
        if (neurons < 1 || neuronsPerGroup < 1) throw new IllegalArgumentException("empty layout");
        if (groupBytes % ALIGNMENT != 0 || groupBytes < neuronsPerGroup * neuronBytes(parts)) {
            throw new IllegalArgumentException("group of " + groupBytes + " bytes cannot hold " + neuronsPerGroup + " neurons");
        }
    }

    private static long neuronBytes(List<PartSpec> parts) {
        long b = 0;
        for (PartSpec p : parts) b += p.rowBytes();
        return b;
    }

    /**
     * Picks the neurons per group: the fewest that reach {@code minReadBytes}. Not more: a miss
     * reads its whole group, so every extra neuron is read amplification for sparse tokens, while
     * the alignment padding this leaves is at most 4 KiB per group.
     */
    public static BundleLayout plan(List<PartSpec> parts, int neurons, int minReadBytes) {
        long nb = neuronBytes(parts);
        int k = (int) Math.max(1, Math.min(neurons, (minReadBytes + nb - 1) / nb));
        return new BundleLayout(parts, neurons, k, align(k * nb));
    }

    public static long align(long v) {
        return (v + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    public long neuronBytes() {
        return neuronBytes(parts);
    }

    public int groupCount() {
        return (neurons + neuronsPerGroup - 1) / neuronsPerGroup;
    }

    public int groupOf(int neuron) {
        return neuron / neuronsPerGroup;
    }

    /** Byte offset of {@code neuron}'s bundle inside its group. */
    public long offsetInGroup(int neuron) {
        return (long) (neuron % neuronsPerGroup) * neuronBytes();
    }

    /** Byte offset of {@code part} inside a neuron's bundle, or -1 when the layout lacks it. */
    public long partOffset(Part part) {
        long off = 0;
        for (PartSpec p : parts) {
            if (p.part() == part) return off;
            off += p.rowBytes();
        }
        return -1;
    }

    public PartSpec spec(Part part) {
        for (PartSpec p : parts) if (p.part() == part) return p;
        return null;
    }

    public boolean has(Part part) {
        return spec(part) != null;
    }
}
