package io.flashllm.predictor.format;

import java.lang.foreign.MemorySegment;

/**
 * One layer's predictor as the runtime uses it: A (rank x dim), B (neurons x rank) and c
 * (neurons) as little-endian F32 off-heap segments (mapped in place when stored as F32), the
 * threshold and the calibration stats.
 */
public record LayerPredictor(int layer, int dim, int neurons, int rank, float threshold, MemorySegment a, MemorySegment b,
                             MemorySegment c, PredictorStats stats, long fileBytes) {
    public LayerPredictor {
        if (a.byteSize() < 4L * rank * dim || b.byteSize() < 4L * neurons * rank || c.byteSize() < 4L * neurons) {
            throw new IllegalArgumentException("predictor segments are smaller than its shape");
        }
    }
}
