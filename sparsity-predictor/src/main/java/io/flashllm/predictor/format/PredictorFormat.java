package io.flashllm.predictor.format;

/**
 * On-disk layout of one layer's predictor ({@code predictors/<generation>/layer-NNN.bin} inside a
 * bundle), little-endian:
 *
 * <pre>
 * header (128 bytes): "FLPRED\0\0", u32 version, u32 layer, u32 dim, u32 neurons, u32 rank,
 *   u32 weight type (0 = F32, 1 = F16, 2 = Q8: per-row F32 scales then int8 rows), f32 threshold, f32 held-out recall, f32 precision,
 *   f32 predicted-active fraction, f32 true-active fraction, f32 target recall, u32 training tokens,
 *   u32 held-out tokens, u64 offset of A, u64 offset of B, u64 offset of c, u32 CRC32C of A, of B,
 *   of c, zero padding, u32 CRC32C of bytes 0..124
 * A: rank x dim, B: neurons x rank (weight type), c: neurons F32; each section 64-byte aligned
 * </pre>
 *
 * score_j(x) = B_j . (A x) + c_j; neuron j is predicted active when score_j > threshold.
 */
public final class PredictorFormat {
    public static final long MAGIC = 0x0000444552504c46L; // "FLPRED\0\0"
    public static final int VERSION = 1;
    public static final int HEADER_BYTES = 128;
    public static final int ALIGN = 64;
    public static final String DIR = "predictors";

    /**
     * Storage of A and B. Q8: per row one F32 scale, then the row's values as signed bytes
     * (value = scale * q), all scales of a matrix first; the runtime computes straight from it,
     * reading a quarter of F32's bytes per token.
     */
    public enum WeightType {
        F32(0, 4), F16(1, 2), Q8(2, 1);

        public final int id;
        public final int bytes;

        /** Bytes of a rows x cols matrix in this storage. */
        public long matrixBytes(long rows, long cols) {
            return rows * cols * bytes + (this == Q8 ? 4 * rows : 0);
        }

        WeightType(int id, int bytes) {
            this.id = id;
            this.bytes = bytes;
        }

        public static WeightType fromId(int id) {
            for (WeightType t : values()) if (t.id == id) return t;
            return null;
        }
    }

    private PredictorFormat() {}

    public static String layerFile(String generation, int layer) {
        return String.format("%s/%s/layer-%03d.bin", DIR, generation, layer);
    }

    static long align(long v) {
        return (v + ALIGN - 1) / ALIGN * ALIGN;
    }
}
