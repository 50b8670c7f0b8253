package io.flashllm.predictor.format;

import java.lang.foreign.MemorySegment;

/**
 * One layer's predictor as the runtime uses it, off-heap: A (rank x dim), B (neurons x rank) and
 * c (neurons, F32), the threshold and the calibration stats. {@code storage} is F32 (A and B as
 * little-endian floats, mapped in place; F16 files are widened to this at load) or Q8 (A and B as
 * int8 rows with one F32 scale per row in {@code aScale} / {@code bScale}, mapped in place).
 */
public record LayerPredictor(int layer, int dim, int neurons, int rank, float threshold, PredictorFormat.WeightType storage,
                             MemorySegment a, MemorySegment aScale, MemorySegment b, MemorySegment bScale, MemorySegment c,
                             PredictorStats stats, long fileBytes) {
    public LayerPredictor {
        if (storage == PredictorFormat.WeightType.F16) throw new IllegalArgumentException("F16 predictors are widened to F32 at load");
        int eb = storage.bytes;
        boolean q8 = storage == PredictorFormat.WeightType.Q8;
        if (a.byteSize() < (long) eb * rank * dim || b.byteSize() < (long) eb * neurons * rank || c.byteSize() < 4L * neurons
                || q8 && (aScale == null || bScale == null || aScale.byteSize() < 4L * rank || bScale.byteSize() < 4L * neurons)) {
            throw new IllegalArgumentException("predictor segments are smaller than its shape");
        }
    }
}
