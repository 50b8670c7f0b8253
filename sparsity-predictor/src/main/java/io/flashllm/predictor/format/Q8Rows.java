package io.flashllm.predictor.format;

/** Symmetric per-row 8-bit quantization of predictor matrices: q = round(v / scale), scale = max|v| / 127. */
public final class Q8Rows {
    private Q8Rows() {}

    public static float scale(float[] v, int off, int n) {
        float max = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, Math.abs(v[off + i]));
        return max / 127f;
    }

    public static float inverse(float scale) {
        return scale == 0 ? 0 : 1 / scale;
    }

    public static byte quantize(float v, float inverseScale) {
        return (byte) Math.max(-127, Math.min(127, Math.round(v * inverseScale)));
    }

    /** Replaces each row of {@code v} (rows x cols) by its quantized-then-dequantized value. */
    public static void roundTrip(float[] v, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            float s = scale(v, r * cols, cols);
            float inv = inverse(s);
            for (int c = 0; c < cols; c++) v[r * cols + c] = quantize(v[r * cols + c], inv) * s;
        }
    }
}
