package io.flashllm.predictor.format;

import io.flashllm.predictor.train.LowRank;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/** Writes one layer predictor file and forces it to disk; reports the section checksums for the manifest. */
public final class PredictorFileWriter {
    /** Byte ranges and CRC32Cs of the written file's sections. */
    public record Written(long bytes, long aOffset, long aBytes, int aCrc, long bOffset, long bBytes, int bCrc, long cOffset,
                          long cBytes, int cCrc, int headerCrc) {}

    private PredictorFileWriter() {}

    public static Written write(Path file, int layer, LowRank p, PredictorFormat.WeightType type, PredictorStats stats)
            throws IOException {
        ByteBuffer a = encode(p.a, p.rank, p.dim, type);
        ByteBuffer b = encode(p.b, p.neurons, p.rank, type);
        ByteBuffer c = ByteBuffer.allocate(4 * p.c.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : p.c) c.putFloat(v);
        c.flip();
        long aOff = PredictorFormat.align(PredictorFormat.HEADER_BYTES);
        long bOff = PredictorFormat.align(aOff + a.remaining());
        long cOff = PredictorFormat.align(bOff + b.remaining());
        long end = cOff + c.remaining();
        int aCrc = crc(a);
        int bCrc = crc(b);
        int cCrc = crc(c);

        ByteBuffer h = ByteBuffer.allocate(PredictorFormat.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        h.putLong(PredictorFormat.MAGIC).putInt(PredictorFormat.VERSION).putInt(layer).putInt(p.dim).putInt(p.neurons)
                .putInt(p.rank).putInt(type.id).putFloat(p.threshold).putFloat(stats.recall()).putFloat(stats.precision())
                .putFloat(stats.predictedFraction()).putFloat(stats.trueFraction()).putFloat(stats.targetRecall())
                .putInt(stats.trainTokens()).putInt(stats.heldOutTokens()).putLong(aOff).putLong(bOff).putLong(cOff)
                .putInt(aCrc).putInt(bCrc).putInt(cCrc);
        CRC32C hc = new CRC32C();
        hc.update(h.array(), 0, 124);
        h.putInt(124, (int) hc.getValue());
        // The manifest's section covers the whole header, its own CRC field included.
        CRC32C whole = new CRC32C();
        whole.update(h.array(), 0, PredictorFormat.HEADER_BYTES);
        int headerCrc = (int) whole.getValue();
        h.position(0);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            writeAt(ch, h, 0);
            writeAt(ch, a, aOff);
            writeAt(ch, b, bOff);
            writeAt(ch, c, cOff);
            ch.force(true);
        }
        return new Written(end, aOff, type.matrixBytes(p.rank, p.dim), aCrc, bOff, type.matrixBytes(p.neurons, p.rank), bCrc,
                cOff, 4L * p.c.length, cCrc, headerCrc);
    }

    static ByteBuffer encode(float[] v, int rows, int cols, PredictorFormat.WeightType type) {
        ByteBuffer buf = ByteBuffer.allocate((int) type.matrixBytes(rows, cols)).order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case F32 -> {
                for (float f : v) buf.putFloat(f);
            }
            case F16 -> {
                for (float f : v) buf.putShort(Float.floatToFloat16(f));
            }
            case Q8 -> {
                for (int r = 0; r < rows; r++) buf.putFloat(Q8Rows.scale(v, r * cols, cols));
                for (int r = 0; r < rows; r++) {
                    float inv = Q8Rows.inverse(Q8Rows.scale(v, r * cols, cols));
                    for (int c = 0; c < cols; c++) buf.put(Q8Rows.quantize(v[r * cols + c], inv));
                }
            }
        }
        return buf.flip();
    }

    private static int crc(ByteBuffer b) {
        CRC32C c = new CRC32C();
        c.update(b.duplicate());
        return (int) c.getValue();
    }

    private static void writeAt(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) pos += ch.write(b, pos);
    }
}
