import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import net.openhft.chronicle.bytes.MappedBytes;

import java.io.File;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

/**
 * Chronicle Bytes MappedBytes vs FFM MemorySegment on the kernels' access pattern: a dot product
 * of every row of a memory-mapped F32 matrix with an on-heap vector (what matvec does), and the
 * same over randomly chosen rows (what a sparse FFN does). Single-file program, see
 * ../0002-mapped-memory-ffm-vs-chronicle.md for how to run it.
 */
public class MappedAccessBench {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final int COLS = 4096;

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args.length > 0 ? args[0] : "mapped-access.bin");
        long bytes = 256L << 20;
        int rows = (int) (bytes / (4L * COLS));
        if (!Files.exists(file) || Files.size(file) != bytes) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
                 Arena a = Arena.ofConfined()) {
                MemorySegment m = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, a);
                Random r = new Random(1);
                for (long i = 0; i < bytes / 4; i++) m.set(F, i * 4, r.nextFloat() - 0.5f);
                m.force();
            }
        }
        float[] x = new float[COLS];
        Random r = new Random(2);
        for (int i = 0; i < COLS; i++) x[i] = r.nextFloat();
        int[] sparse = new int[rows / 10];
        for (int i = 0; i < sparse.length; i++) sparse[i] = r.nextInt(rows);

        try (Arena arena = Arena.ofShared(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes, arena);
            MappedBytes mb = MappedBytes.mappedBytes(new File(file.toString()), bytes + (1 << 20), 0, true);
            try {
                long addr = mb.addressForRead(0);
                MemorySegment viaChronicle = MemorySegment.ofAddress(addr).reinterpret(bytes);
                System.out.printf("%-44s %10s %10s%n", "access", "all rows", "10% rows");
                for (int round = 0; round < 2; round++) {
                    boolean print = round == 1;
                    report(print, "FFM MemorySegment, scalar get", () -> allScalar(seg, rows, x), () -> someScalar(seg, sparse, x), bytes, sparse.length);
                    report(print, "FFM MemorySegment, Vector API", () -> allVector(seg, rows, x), () -> someVector(seg, sparse, x), bytes, sparse.length);
                    report(print, "Chronicle MappedBytes.readFloat(offset)", () -> allChronicle(mb, rows, x), () -> someChronicle(mb, sparse, x), bytes, sparse.length);
                    report(print, "Chronicle address as MemorySegment, Vector", () -> allVector(viaChronicle, rows, x), () -> someVector(viaChronicle, sparse, x), bytes, sparse.length);
                }
            } finally {
                mb.releaseLast();
            }
        }
    }

    interface Job { double run(); }

    static double sink;

    static void report(boolean print, String name, Job all, Job some, long bytes, int someRows) {
        double allGbs = time(all, bytes);
        double someGbs = time(some, (long) someRows * COLS * 4);
        if (print) System.out.printf("%-44s %6.2f GB/s %6.2f GB/s%n", name, allGbs, someGbs);
    }

    static double time(Job j, long bytes) {
        for (int i = 0; i < 3; i++) sink += j.run();
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            sink += j.run();
            best = Math.min(best, System.nanoTime() - t0);
        }
        return bytes / (double) best;
    }

    static double allScalar(MemorySegment s, int rows, float[] x) {
        double t = 0;
        for (int r = 0; r < rows; r++) t += dotScalar(s, (long) r * COLS * 4, x);
        return t;
    }

    static double someScalar(MemorySegment s, int[] rows, float[] x) {
        double t = 0;
        for (int r : rows) t += dotScalar(s, (long) r * COLS * 4, x);
        return t;
    }

    static float dotScalar(MemorySegment s, long off, float[] x) {
        float acc = 0;
        for (int i = 0; i < COLS; i++) acc += s.get(F, off + 4L * i) * x[i];
        return acc;
    }

    static double allVector(MemorySegment s, int rows, float[] x) {
        double t = 0;
        for (int r = 0; r < rows; r++) t += dotVector(s, (long) r * COLS * 4, x);
        return t;
    }

    static double someVector(MemorySegment s, int[] rows, float[] x) {
        double t = 0;
        for (int r : rows) t += dotVector(s, (long) r * COLS * 4, x);
        return t;
    }

    static float dotVector(MemorySegment s, long off, float[] x) {
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < COLS; i += S.length()) {
            FloatVector w = FloatVector.fromMemorySegment(S, s, off + 4L * i, ByteOrder.LITTLE_ENDIAN);
            acc = w.fma(FloatVector.fromArray(S, x, i), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static double allChronicle(MappedBytes b, int rows, float[] x) {
        double t = 0;
        for (int r = 0; r < rows; r++) t += dotChronicle(b, (long) r * COLS * 4, x);
        return t;
    }

    static double someChronicle(MappedBytes b, int[] rows, float[] x) {
        double t = 0;
        for (int r : rows) t += dotChronicle(b, (long) r * COLS * 4, x);
        return t;
    }

    static float dotChronicle(MappedBytes b, long off, float[] x) {
        float acc = 0;
        for (int i = 0; i < COLS; i++) acc += b.readFloat(off + 4L * i) * x[i];
        return acc;
    }
}
