package io.flashllm.engine.generate;

/** What is done to a pooled embedding before it leaves: cut to fewer dimensions, scaled to unit length; and comparing two. */
public final class EmbeddingVectors {
    private EmbeddingVectors() {}

    /**
     * The first {@code dimensions} values (all when null or larger), scaled to unit Euclidean length
     * when {@code normalize} (a zero vector stays zero), as OpenAI's and Ollama's answers are and as
     * Matryoshka-trained models expect a cut vector to be.
     *
     * @throws IllegalStateException when the model produced a NaN or an infinity
     */
    public static float[] finish(float[] pooled, Integer dimensions, boolean normalize) {
        int n = dimensions == null ? pooled.length : Math.min(dimensions, pooled.length);
        float[] v = new float[n];
        double sumSquares = 0;
        for (int i = 0; i < n; i++) {
            float x = pooled[i];
            if (!Float.isFinite(x)) throw new IllegalStateException("the model produced a non-finite embedding value");
            v[i] = x;
            sumSquares += (double) x * x;
        }
        if (normalize && sumSquares > 0) {
            double scale = 1.0 / Math.sqrt(sumSquares);
            for (int i = 0; i < n; i++) v[i] = (float) (v[i] * scale);
        }
        return v;
    }

    /** Cosine similarity of two vectors of one width (0 when either is zero). */
    public static double cosine(float[] a, float[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("widths differ: " + a.length + " and " + b.length);
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }
}
