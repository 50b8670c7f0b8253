package io.flashllm.flashstore.budget;

/**
 * Splits a DRAM budget between the parts that must be resident (resident tensors, KV cache, I/O
 * and stream buffers, runtime overhead) and the FFN neuron cache (hot region plus window cache).
 * A budget that cannot hold the resident part is refused, naming the shortfall.
 *
 * @param total          the whole budget
 * @param residentBytes  memory-mapped resident tensors (embeddings, attention, norms, head, resident gates)
 * @param kvCacheBytes   the KV cache at the configured context
 * @param ioBufferBytes  the I/O engine's aligned read buffers
 * @param streamBytes    the stream buffer for neurons that do not fit the cache
 * @param overheadBytes  JVM heap, code and other fixed costs the caller wants kept aside
 * @param layers         FFN layers
 * @param neuronsPerLayer neurons per FFN layer
 * @param cacheRowBytes  bytes one cached neuron takes
 * @param hotFraction    share of the neuron cache given to the hot region (0..1)
 * @param streamedGateBytes buffers for gate matrices read from flash per layer, when the budget
 *                       cannot keep them resident (then they are not in {@code residentBytes}); else 0
 */
public record MemoryBudget(long total, long residentBytes, long kvCacheBytes, long ioBufferBytes, long streamBytes,
                           long overheadBytes, int layers, int neuronsPerLayer, long cacheRowBytes, double hotFraction,
                           long streamedGateBytes) {

    /** A budget with every gate matrix (if any) resident. */
    public MemoryBudget(long total, long residentBytes, long kvCacheBytes, long ioBufferBytes, long streamBytes,
                        long overheadBytes, int layers, int neuronsPerLayer, long cacheRowBytes, double hotFraction) {
        this(total, residentBytes, kvCacheBytes, ioBufferBytes, streamBytes, overheadBytes, layers, neuronsPerLayer,
                cacheRowBytes, hotFraction, 0);
    }

    /** The outcome: bytes per part and the cache rows per layer they allow. */
    public record Split(long total, long resident, long kvCache, long ioBuffers, long stream, long overhead,
                        long hotRegion, long windowCache, int hotRowsPerLayer, int cacheRowsPerLayer, int neuronsPerLayer,
                        long streamedGates) {
        /** True when every neuron of every layer fits: the FFN is effectively all in DRAM. */
        public boolean wholeFfnFits() {
            return cacheRowsPerLayer >= neuronsPerLayer;
        }

        public long unused() {
            return total - resident - kvCache - ioBuffers - stream - overhead - hotRegion - windowCache - streamedGates;
        }

        /** The split as printed at start-up. */
        public String describe() {
            StringBuilder sb = new StringBuilder();
            sb.append("memory budget ").append(MemorySize.format(total)).append('\n');
            line(sb, "resident tensors", resident);
            if (streamedGates > 0) line(sb, "gate buffers", streamedGates);
            line(sb, "KV cache", kvCache);
            line(sb, "I/O buffers", ioBuffers);
            line(sb, "stream buffer", stream);
            line(sb, "runtime overhead", overhead);
            line(sb, "hot neuron region", hotRegion);
            line(sb, "window neuron cache", windowCache);
            line(sb, "unused", unused());
            sb.append(String.format("  neuron cache: %d rows per layer (%d hot) of %d neurons = %.1f%%%n",
                    cacheRowsPerLayer, hotRowsPerLayer, neuronsPerLayer, 100.0 * cacheRowsPerLayer / Math.max(1, neuronsPerLayer)));
            return sb.toString();
        }

        private void line(StringBuilder sb, String what, long bytes) {
            sb.append(String.format("  %-20s %12s  %5.1f%%%n", what, MemorySize.format(bytes), 100.0 * bytes / Math.max(1, total)));
        }
    }

    public MemoryBudget {
        if (hotFraction < 0 || hotFraction > 1) throw new IllegalArgumentException("hotFraction must be in [0, 1]");
        if (layers < 1 || neuronsPerLayer < 1 || cacheRowBytes < 1) throw new IllegalArgumentException("empty FFN");
    }

    public Split split() {
        long fixed = residentBytes + kvCacheBytes + ioBufferBytes + streamBytes + overheadBytes + streamedGateBytes;
        if (total < fixed) {
            throw new BudgetException(String.format(
                    "memory budget %s cannot hold the resident part: resident tensors %s%s + KV cache %s + I/O buffers %s"
                            + " + stream buffer %s + runtime overhead %s = %s (%s short); raise --memory-budget or"
                            + " lower the context length (a server holds a KV cache per --parallel slot)",
                    MemorySize.format(total), MemorySize.format(residentBytes),
                    streamedGateBytes > 0 ? " + gate buffers " + MemorySize.format(streamedGateBytes) : "",
                    MemorySize.format(kvCacheBytes),
                    MemorySize.format(ioBufferBytes), MemorySize.format(streamBytes), MemorySize.format(overheadBytes),
                    MemorySize.format(fixed), MemorySize.format(fixed - total)));
        }
        long left = total - fixed;
        long perRowAllLayers = cacheRowBytes * layers;
        int rows = (int) Math.min(neuronsPerLayer, left / perRowAllLayers);
        int hotRows = (int) Math.floor(rows * hotFraction);
        long hotBytes = hotRows * perRowAllLayers;
        long windowBytes = (long) (rows - hotRows) * perRowAllLayers;
        return new Split(total, residentBytes, kvCacheBytes, ioBufferBytes, streamBytes, overheadBytes,
                hotBytes, windowBytes, hotRows, rows, neuronsPerLayer, streamedGateBytes);
    }

    /** KV cache size: keys and values for every layer and position, {@code rowBytes} for one position's keys of one layer. */
    public static long kvCacheBytes(int layers, int contextLength, long rowBytes) {
        return Math.multiplyExact(2L * layers * contextLength, rowBytes);
    }
}
