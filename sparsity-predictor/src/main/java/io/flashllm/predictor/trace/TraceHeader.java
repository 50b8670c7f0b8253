package io.flashllm.predictor.trace;

import io.flashllm.predictor.PredictorException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/** The fixed header of a trace file: which layer, the vector shapes and the storage type. */
public record TraceHeader(int layer, int dim, int neurons, TraceFormat.XType xType, int chunkRecords) {
    public TraceHeader {
        if (layer < 0 || dim < 1 || neurons < 1 || xType == null || chunkRecords < 1) {
            throw new IllegalArgumentException("bad trace shape: layer " + layer + ", dim " + dim + ", neurons " + neurons
                    + ", type " + xType + ", chunk " + chunkRecords);
        }
    }

    public long recordBytes() {
        return TraceFormat.recordBytes(dim, neurons, xType);
    }

    public int maskWords() {
        return TraceFormat.maskWords(neurons);
    }

    ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(TraceFormat.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(TraceFormat.MAGIC).putInt(TraceFormat.VERSION).putInt(layer).putInt(dim).putInt(neurons)
                .putInt(xType.id).putInt(chunkRecords);
        CRC32C c = new CRC32C();
        c.update(b.array(), 0, 60);
        b.putInt(60, (int) c.getValue());
        return b.position(0);
    }

    static TraceHeader decode(Path file, ByteBuffer b) {
        b.order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < TraceFormat.HEADER_BYTES) throw new PredictorException(file, "too short for a trace header (truncated)");
        int p = b.position();
        if (b.getLong(p) != TraceFormat.MAGIC) throw new PredictorException(file, "not a flashllm trace file (bad magic)");
        int version = b.getInt(p + 8);
        if (version != TraceFormat.VERSION) {
            throw new PredictorException(file, "unsupported trace version " + version + " (this build reads " + TraceFormat.VERSION + ")");
        }
        CRC32C c = new CRC32C();
        c.update(b.slice(p, 60));
        if ((int) c.getValue() != b.getInt(p + 60)) throw new PredictorException(file, "trace header checksum mismatch (damaged)");
        TraceFormat.XType t = TraceFormat.XType.fromId(b.getInt(p + 24));
        if (t == null) throw new PredictorException(file, "unknown vector type id " + b.getInt(p + 24));
        try {
            return new TraceHeader(b.getInt(p + 12), b.getInt(p + 16), b.getInt(p + 20), t, b.getInt(p + 28));
        } catch (IllegalArgumentException e) {
            throw new PredictorException(file, e.getMessage());
        }
    }
}
