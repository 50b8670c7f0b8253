package io.flashllm.predictor.format;

import io.flashllm.flashstore.MappedFile;
import io.flashllm.flashstore.bundle.Checksums;
import io.flashllm.predictor.PredictorException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Opens a layer predictor file: maps it into {@code arena}, checks the header, the shape against
 * the file size and every section's CRC32C, and returns F32 views (F16 files are widened once into
 * {@code arena}, since the per-token kernels read F32).
 */
public final class PredictorFileReader {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private PredictorFileReader() {}

    public static LayerPredictor open(Path file, Arena arena) {
        MemorySegment s;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            // A native view, as for model files (MappedFile): the vector code sees one segment class.
            s = MappedFile.nativeView(ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena), arena);
        } catch (NoSuchFileException e) {
            throw new PredictorException(file, "missing predictor file");
        } catch (IOException e) {
            throw new PredictorException(file, "cannot be read: " + e.getMessage(), e);
        }
        long size = s.byteSize();
        if (size < PredictorFormat.HEADER_BYTES) throw new PredictorException(file, "too short for a predictor header (truncated)");
        if (s.get(I64, 0) != PredictorFormat.MAGIC) throw new PredictorException(file, "not a flashllm predictor file (bad magic)");
        int version = s.get(I32, 8);
        if (version != PredictorFormat.VERSION) {
            throw new PredictorException(file, "unsupported predictor version " + version + " (this build reads "
                    + PredictorFormat.VERSION + "); run flashllm calibrate again");
        }
        if (Checksums.crc32c(s, 0, 124) != s.get(I32, 124)) throw new PredictorException(file, "predictor header checksum mismatch (damaged)");
        int layer = s.get(I32, 12);
        int dim = s.get(I32, 16);
        int neurons = s.get(I32, 20);
        int rank = s.get(I32, 24);
        PredictorFormat.WeightType type = PredictorFormat.WeightType.fromId(s.get(I32, 28));
        if (type == null) throw new PredictorException(file, "unknown weight type id " + s.get(I32, 28));
        if (layer < 0 || dim < 1 || neurons < 1 || rank < 1 || rank > Math.min(dim, neurons)) {
            throw new PredictorException(file, "bad shape: layer " + layer + ", dim " + dim + ", neurons " + neurons + ", rank " + rank);
        }
        float threshold = s.get(F32, 32);
        PredictorStats stats = new PredictorStats(s.get(F32, 36), s.get(F32, 40), s.get(F32, 44), s.get(F32, 48), s.get(F32, 52),
                s.get(I32, 56), s.get(I32, 60));
        long aOff = s.get(I64, 64);
        long bOff = s.get(I64, 72);
        long cOff = s.get(I64, 80);
        long aBytes = type.matrixBytes(rank, dim);
        long bBytes = type.matrixBytes(neurons, rank);
        long cBytes = 4L * neurons;
        check(file, "A", aOff, aBytes, PredictorFormat.HEADER_BYTES, size);
        check(file, "B", bOff, bBytes, aOff + aBytes, size);
        check(file, "c", cOff, cBytes, bOff + bBytes, size);
        if (cOff + cBytes != size) throw new PredictorException(file, "is " + size + " bytes, its header says " + (cOff + cBytes));
        section(file, s, "A", aOff, aBytes, s.get(I32, 88));
        section(file, s, "B", bOff, bBytes, s.get(I32, 92));
        section(file, s, "c", cOff, cBytes, s.get(I32, 96));
        MemorySegment c = s.asSlice(cOff, cBytes);
        if (type == PredictorFormat.WeightType.Q8) {
            MemorySegment aScale = s.asSlice(aOff, 4L * rank);
            MemorySegment bScale = s.asSlice(bOff, 4L * neurons);
            return new LayerPredictor(layer, dim, neurons, rank, threshold, type, s.asSlice(aOff + 4L * rank, (long) rank * dim), aScale,
                    s.asSlice(bOff + 4L * neurons, (long) neurons * rank), bScale, c, stats, size);
        }
        MemorySegment a = widen(s.asSlice(aOff, aBytes), type, arena);
        MemorySegment b = widen(s.asSlice(bOff, bBytes), type, arena);
        return new LayerPredictor(layer, dim, neurons, rank, threshold, PredictorFormat.WeightType.F32, a, null, b, null, c, stats, size);
    }

    private static void check(Path file, String name, long off, long bytes, long min, long size) {
        if (off < min || off % PredictorFormat.ALIGN != 0 || off + bytes > size) {
            throw new PredictorException(file, "section " + name + " at " + off + " (" + bytes + " bytes) lies outside the "
                    + size + "-byte file or overlaps another (truncated or damaged)");
        }
    }

    private static void section(Path file, MemorySegment s, String name, long off, long bytes, int expect) {
        int got = Checksums.crc32c(s, off, bytes);
        if (got != expect) {
            throw new PredictorException(file, String.format("checksum mismatch in section %s (bytes %d..%d): expected crc32c"
                    + " %08x, found %08x; the file is damaged", name, off, off + bytes, expect, got));
        }
    }

    private static MemorySegment widen(MemorySegment src, PredictorFormat.WeightType type, Arena arena) {
        if (type == PredictorFormat.WeightType.F32) return src;
        long n = src.byteSize() / 2;
        MemorySegment out = arena.allocate(4 * n, 64);
        for (long i = 0; i < n; i++) out.set(F32, 4 * i, Float.float16ToFloat(src.get(I16, 2 * i)));
        return out;
    }
}
