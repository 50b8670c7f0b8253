package io.flashllm.kernels.bench;

import io.flashllm.kernels.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Memory bandwidth probes with the same threads as the kernels: a streaming read (what a matvec
 * does) and a copy (what memcpy-style tools report). Results in GB/s (10^9 bytes).
 */
public final class MemoryProbe {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static volatile float sink;

    private MemoryProbe() {}

    /** Bytes read per second summing {@code src} with vector loads, split over the pool. */
    public static double readGBps(Parallel p, MemorySegment src, double seconds) {
        int chunks = p.threads() * 16;
        long chunkBytes = src.byteSize() / chunks / 64 * 64;
        float[] partial = new float[chunks];
        Parallel.RangeBody body = (from, to) -> {
            for (int c = from; c < to; c++) partial[c] = sumRange(src, c * chunkBytes, chunkBytes);
        };
        warmUp(p, chunks, body);
        long bytes = 0;
        long t0 = System.nanoTime(), end = t0 + (long) (seconds * 1e9);
        long now;
        do {
            p.forRange(chunks, body);
            bytes += chunkBytes * chunks;
            now = System.nanoTime();
        } while (now < end);
        float s = 0;
        for (float v : partial) s += v;
        sink = s;
        return bytes / ((now - t0) / 1e9) / 1e9;
    }

    /** Sum of the floats in {@code [off, off + len)}; the loop a read probe times. */
    public static float sumRange(MemorySegment s, long off, long len) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int step = F.vectorByteSize();
        for (long o = off; o + 4L * step <= off + len; o += 4L * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, s, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, s, o + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, s, o + 2L * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, s, o + 3L * step, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /** Runs the probe for half a second of this thread's CPU time so that C2 has compiled it. */
    private static void warmUp(Parallel p, int chunks, Parallel.RangeBody body) {
        java.lang.management.ThreadMXBean tb = java.lang.management.ManagementFactory.getThreadMXBean();
        long end = tb.getCurrentThreadCpuTime() + 500_000_000L;
        do {
            p.forRange(chunks, body);
        } while (tb.getCurrentThreadCpuTime() < end);
    }

    /** Bytes copied per second (each byte read once and written once) from {@code src} to {@code dst}. */
    public static double copyGBps(Parallel p, MemorySegment src, MemorySegment dst, double seconds) {
        int chunks = p.threads() * 16;
        long chunkBytes = Math.min(src.byteSize(), dst.byteSize()) / chunks / 64 * 64;
        Parallel.RangeBody body = (from, to) -> {
            for (int c = from; c < to; c++) MemorySegment.copy(src, c * chunkBytes, dst, c * chunkBytes, chunkBytes);
        };
        warmUp(p, chunks, body);
        long bytes = 0;
        long t0 = System.nanoTime(), end = t0 + (long) (seconds * 1e9);
        long now;
        do {
            p.forRange(chunks, body);
            bytes += chunkBytes * chunks;
            now = System.nanoTime();
        } while (now < end);
        return bytes / ((now - t0) / 1e9) / 1e9;
    }
}
