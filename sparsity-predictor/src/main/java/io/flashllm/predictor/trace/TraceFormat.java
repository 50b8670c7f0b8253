package io.flashllm.predictor.trace;

/**
 * On-disk layout of a calibration trace, one file per layer ({@code layer-NNN.trace}), all
 * little-endian:
 *
 * <pre>
 * header (64 bytes): "FLTRACE\0", u32 version, u32 layer, u32 dim, u32 neurons, u32 x type
 *                    (0 = F32, 1 = F16), u32 records per chunk, zero padding, u32 CRC32C of bytes 0..60
 * chunk*:            u32 "CHNK", u32 records, u32 payload bytes, u32 CRC32C of the payload, payload
 *                    (records x (x vector, then the true mask as ceil(neurons/64) u64 words))
 * end (24 bytes):    u32 "TEND", u32 chunks, u64 records, u32 CRC32C of the preceding 16 bytes, u32 0
 * </pre>
 *
 * The file is only appended to, chunk by chunk, so recording never holds more than one chunk per
 * layer in memory; the end record is written by {@code close()}, which makes a file whose recording
 * was interrupted recognisable. Plain {@code FileChannel} writes are used instead of Chronicle
 * Bytes' mapped appending: an append-only stream gains nothing from mapping and Chronicle needs a
 * dozen {@code --add-opens} flags on JDK 25.
 */
public final class TraceFormat {
    public static final long MAGIC = 0x0045434152544c46L; // "FLTRACE\0" little-endian
    public static final int VERSION = 1;
    public static final int HEADER_BYTES = 64;
    public static final int CHUNK_MAGIC = 0x4b4e4843; // "CHNK"
    public static final int CHUNK_HEADER_BYTES = 16;
    public static final int END_MAGIC = 0x444e4554; // "TEND"
    public static final int END_BYTES = 24;
    public static final int DEFAULT_CHUNK_RECORDS = 64;

    /** How FFN inputs are stored. */
    public enum XType {
        F32(0, 4), F16(1, 2);

        public final int id;
        public final int bytes;

        XType(int id, int bytes) {
            this.id = id;
            this.bytes = bytes;
        }

        public static XType fromId(int id) {
            for (XType t : values()) if (t.id == id) return t;
            return null;
        }
    }

    private TraceFormat() {}

    public static String layerFile(int layer) {
        return String.format("layer-%03d.trace", layer);
    }

    public static int maskWords(int neurons) {
        return (neurons + 63) >>> 6;
    }

    public static long recordBytes(int dim, int neurons, XType t) {
        return (long) dim * t.bytes + 8L * maskWords(neurons);
    }
}
