package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.ffn.FfnActivation;

/**
 * How to convert.
 *
 * @param activation     the FFN activation; null = what the source declares, else ReLU for
 *                       ungated FFNs and SiLU for gated ones
 * @param gateResident   keep gate matrices in the resident file instead of the bundles; null = yes
 *                       exactly when the activation is a gated ReLU kind (gate-exact selection)
 * @param downType       how down columns are stored (see {@link DownType})
 * @param minReadBytes   smallest bundle group (several neurons per group below this)
 * @param testWriteLimit testing aid: fail like a full disk after this many bytes (-1 = off)
 * @param testThrottle   testing aid: write at most this many bytes per second (0 = off)
 */
public record ConvertOptions(FfnActivation activation, Boolean gateResident, DownType downType, int minReadBytes,
                             long testWriteLimit, long testThrottle) {

    /**
     * Storage of down columns. The source's down matrix is stored by rows of length ffn, so a
     * column is a new axis: float sources keep their type (exact); quantized blocks cannot be
     * transposed, so AUTO requantizes columns to Q8_0 (error at most half a Q8_0 step per element,
     * far below the source's own 4-bit error and ~1/8 of F32's size) and F32 keeps them exact.
     */
    public enum DownType { AUTO, F32, F16, Q8_0 }

    public static final int DEFAULT_MIN_READ = 32 * 1024;

    public ConvertOptions {
        if (downType == null) downType = DownType.AUTO;
        if (minReadBytes < 1) throw new IllegalArgumentException("minReadBytes must be positive");
    }

    public static ConvertOptions defaults() {
        return new ConvertOptions(null, null, DownType.AUTO, DEFAULT_MIN_READ, -1, 0);
    }

    public ConvertOptions withActivation(FfnActivation a) {
        return new ConvertOptions(a, gateResident, downType, minReadBytes, testWriteLimit, testThrottle);
    }

    public ConvertOptions withGateResident(Boolean g) {
        return new ConvertOptions(activation, g, downType, minReadBytes, testWriteLimit, testThrottle);
    }

    public ConvertOptions withDownType(DownType d) {
        return new ConvertOptions(activation, gateResident, d, minReadBytes, testWriteLimit, testThrottle);
    }

    public ConvertOptions withMinReadBytes(int b) {
        return new ConvertOptions(activation, gateResident, downType, b, testWriteLimit, testThrottle);
    }

    public ConvertOptions withTestWriteLimit(long bytes) {
        return new ConvertOptions(activation, gateResident, downType, minReadBytes, bytes, testThrottle);
    }

    public ConvertOptions withTestThrottle(long bytesPerSecond) {
        return new ConvertOptions(activation, gateResident, downType, minReadBytes, testWriteLimit, bytesPerSecond);
    }
}
