package io.flashllm.predictor.trace;

import io.flashllm.predictor.PredictorException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceFileTest {
    @TempDir
    Path dir;

    /** Builds a trace file byte by byte from the format description, independent of TraceWriter. */
    static byte[] handMade(int layer, int dim, int neurons, int chunk, float[][] xs, long[][] masks) {
        int words = (neurons + 63) / 64;
        ByteBuffer b = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        b.put("FLTRACE\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        b.putInt(1).putInt(layer).putInt(dim).putInt(neurons).putInt(0).putInt(chunk);
        while (b.position() < 60) b.put((byte) 0);
        CRC32C c = new CRC32C();
        c.update(b.array(), 0, 60);
        b.putInt((int) c.getValue());
        int chunks = 0;
        for (int first = 0; first < xs.length; first += chunk) {
            int n = Math.min(chunk, xs.length - first);
            ByteBuffer p = ByteBuffer.allocate(n * (4 * dim + 8 * words)).order(ByteOrder.LITTLE_ENDIAN);
            for (int t = first; t < first + n; t++) {
                for (float v : xs[t]) p.putFloat(v);
                for (long w : masks[t]) p.putLong(w);
            }
            CRC32C pc = new CRC32C();
            pc.update(p.array());
            b.put("CHNK".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(n).putInt(p.capacity()).putInt((int) pc.getValue());
            b.put(p.array());
            chunks++;
        }
        int endAt = b.position();
        b.put("TEND".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(chunks).putLong(xs.length);
        CRC32C ec = new CRC32C();
        ec.update(b.array(), endAt, 16);
        b.putInt((int) ec.getValue()).putInt(0);
        byte[] out = new byte[b.position()];
        System.arraycopy(b.array(), 0, out, 0, out.length);
        return out;
    }

    static float[][] randomXs(Random r, int count, int dim) {
        float[][] xs = new float[count][dim];
        for (float[] x : xs) for (int i = 0; i < dim; i++) x[i] = (float) r.nextGaussian();
        return xs;
    }

    static long[][] randomMasks(Random r, int count, int neurons) {
        long[][] m = new long[count][(neurons + 63) / 64];
        for (long[] w : m) {
            for (int j = 0; j < neurons; j++) if (r.nextInt(4) == 0) w[j >>> 6] |= 1L << (j & 63);
        }
        return m;
    }

    @Test
    void readsAHandMadeFileInMiniBatches() throws IOException {
        Random r = new Random(3);
        float[][] xs = randomXs(r, 23, 5);
        long[][] masks = randomMasks(r, 23, 70);
        Path f = Files.write(dir.resolve("t.trace"), handMade(4, 5, 70, 8, xs, masks));
        try (TraceReader rd = TraceReader.open(f)) {
            assertEquals(4, rd.header().layer());
            assertEquals(23, rd.records());
            TraceReader.Cursor c = rd.cursor();
            float[] bx = new float[6 * 5];
            long[] bm = new long[6 * 2];
            int seen = 0;
            int n;
            while ((n = c.next(bx, bm, 6)) > 0) {
                for (int t = 0; t < n; t++) {
                    for (int i = 0; i < 5; i++) assertEquals(xs[seen + t][i], bx[t * 5 + i]);
                    assertEquals(masks[seen + t][0], bm[t * 2]);
                    assertEquals(masks[seen + t][1], bm[t * 2 + 1]);
                }
                seen += n;
            }
            assertEquals(23, seen);
        }
    }

    @Test
    void writerProducesTheDocumentedBytes() throws IOException {
        Random r = new Random(4);
        float[][] xs = randomXs(r, 19, 6);
        long[][] masks = randomMasks(r, 19, 64);
        Path f = dir.resolve("w.trace");
        try (TraceWriter w = new TraceWriter(f, new TraceHeader(2, 6, 64, TraceFormat.XType.F32, 5))) {
            for (int t = 0; t < xs.length; t++) w.append(xs[t], 0, masks[t]);
        }
        assertArrayEquals(handMade(2, 6, 64, 5, xs, masks), Files.readAllBytes(f));
    }

    @Test
    void f16RoundTripKeepsHalfPrecision() {
        Random r = new Random(5);
        float[][] xs = randomXs(r, 10, 9);
        long[][] masks = randomMasks(r, 10, 130);
        Path f = dir.resolve("h.trace");
        try (TraceWriter w = new TraceWriter(f, new TraceHeader(0, 9, 130, TraceFormat.XType.F16, 4))) {
            for (int t = 0; t < xs.length; t++) w.append(xs[t], 0, masks[t]);
        }
        try (TraceReader rd = TraceReader.open(f)) {
            float[] bx = new float[10 * 9];
            long[] bm = new long[10 * 3];
            assertEquals(10, rd.cursor().next(bx, bm, 10));
            for (int t = 0; t < 10; t++) {
                for (int i = 0; i < 9; i++) assertEquals(Float.float16ToFloat(Float.floatToFloat16(xs[t][i])), bx[t * 9 + i]);
                assertArrayEquals(masks[t], java.util.Arrays.copyOfRange(bm, t * 3, t * 3 + 3));
            }
        }
    }

    private Path valid() throws IOException {
        Random r = new Random(6);
        return Files.write(dir.resolve("v.trace"), handMade(1, 4, 64, 3, randomXs(r, 7, 4), randomMasks(r, 7, 64)));
    }

    private static String fault(Path f) {
        return assertThrows(PredictorException.class, () -> {
            try (TraceReader rd = TraceReader.open(f)) {
                TraceReader.Cursor c = rd.cursor();
                while (c.next(new float[4], new long[1], 1) > 0) {
                    // read everything
                }
            }
        }).getMessage();
    }

    @Test
    void flippedPayloadByteIsAChecksumError() throws IOException {
        Path f = valid();
        byte[] b = Files.readAllBytes(f);
        b[64 + 16 + 40] ^= 1;
        Files.write(f, b);
        String m = fault(f);
        assertTrue(m.contains("checksum mismatch in chunk 0") && m.contains(f.toString()), m);
    }

    @Test
    void truncatedFileIsRefusedAtOpen() throws IOException {
        Path f = valid();
        byte[] b = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(b, b.length - 30));
        assertTrue(fault(f).contains("truncated") || fault(f).contains("incomplete"), fault(f));
        Files.write(f, java.util.Arrays.copyOf(b, b.length - 24));
        assertTrue(fault(f).contains("incomplete trace"), fault(f));
        Files.write(f, java.util.Arrays.copyOf(b, 20));
        assertTrue(fault(f).contains("too short"), fault(f));
    }

    @Test
    void unfinishedRecordingIsRecognised() throws IOException {
        Path f = dir.resolve("u.trace");
        TraceWriter w = new TraceWriter(f, new TraceHeader(0, 4, 64, TraceFormat.XType.F32, 2));
        for (int t = 0; t < 5; t++) w.append(new float[4], 0, new long[1]);
        // no close(): as if the process died
        assertTrue(fault(f).contains("incomplete trace"), fault(f));
        w.close();
    }

    @Test
    void headerFaultsAreNamed() throws IOException {
        Path f = valid();
        byte[] b = Files.readAllBytes(f);
        byte[] bad = b.clone();
        bad[0] = 'X';
        Files.write(f, bad);
        assertTrue(fault(f).contains("bad magic"));
        bad = b.clone();
        bad[8] = 9;
        Files.write(f, bad);
        assertTrue(fault(f).contains("unsupported trace version 9"));
        bad = b.clone();
        bad[16] ^= 1;
        Files.write(f, bad);
        assertTrue(fault(f).contains("header checksum"));
        bad = b.clone();
        bad[b.length - 10] ^= 1;
        Files.write(f, bad);
        assertTrue(fault(f).contains("end record"), fault(f));
        assertTrue(fault(dir.resolve("nope.trace")).contains("missing trace file"));
    }
}
