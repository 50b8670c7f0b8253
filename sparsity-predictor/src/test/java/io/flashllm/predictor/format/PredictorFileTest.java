package io.flashllm.predictor.format;

import io.flashllm.predictor.PredictorException;
import io.flashllm.predictor.train.LowRank;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PredictorFileTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    static LowRank random(long seed, int d, int n, int r) {
        Random rnd = new Random(seed);
        LowRank p = new LowRank(d, n, r);
        for (int i = 0; i < p.a.length; i++) p.a[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < p.b.length; i++) p.b[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < p.c.length; i++) p.c[i] = (float) rnd.nextGaussian();
        p.threshold = 0.25f;
        return p;
    }

    static final PredictorStats STATS = new PredictorStats(0.991f, 0.6f, 0.12f, 0.08f, 0.99f, 800, 200);

    /** A predictor file built from the format description, independent of PredictorFileWriter. */
    static byte[] handMade(int layer, LowRank p) {
        long aOff = 128;
        long bOff = (aOff + 4L * p.a.length + 63) / 64 * 64;
        long cOff = (bOff + 4L * p.b.length + 63) / 64 * 64;
        ByteBuffer f = ByteBuffer.allocate((int) (cOff + 4L * p.c.length)).order(ByteOrder.LITTLE_ENDIAN);
        f.position((int) aOff);
        for (float v : p.a) f.putFloat(v);
        f.position((int) bOff);
        for (float v : p.b) f.putFloat(v);
        f.position((int) cOff);
        for (float v : p.c) f.putFloat(v);
        f.position(0);
        f.put("FLPRED\0\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        f.putInt(1).putInt(layer).putInt(p.dim).putInt(p.neurons).putInt(p.rank).putInt(0).putFloat(p.threshold);
        f.putFloat(STATS.recall()).putFloat(STATS.precision()).putFloat(STATS.predictedFraction()).putFloat(STATS.trueFraction())
                .putFloat(STATS.targetRecall()).putInt(STATS.trainTokens()).putInt(STATS.heldOutTokens());
        f.putLong(aOff).putLong(bOff).putLong(cOff);
        f.putInt(crc(f.array(), aOff, 4L * p.a.length)).putInt(crc(f.array(), bOff, 4L * p.b.length))
                .putInt(crc(f.array(), cOff, 4L * p.c.length));
        f.putInt(124, crc(f.array(), 0, 124));
        return f.array();
    }

    static int crc(byte[] b, long off, long len) {
        CRC32C c = new CRC32C();
        c.update(b, (int) off, (int) len);
        return (int) c.getValue();
    }

    @Test
    void writerMatchesTheDocumentedLayoutAndReaderReadsIt() throws IOException {
        LowRank p = random(1, 24, 70, 5);
        Path f = dir.resolve("p.bin");
        PredictorFileWriter.Written w = PredictorFileWriter.write(f, 3, p, PredictorFormat.WeightType.F32, STATS);
        byte[] expect = handMade(3, p);
        assertEquals(expect.length, w.bytes());
        assertTrue(java.util.Arrays.equals(expect, Files.readAllBytes(f)));
        try (Arena arena = Arena.ofConfined()) {
            LayerPredictor lp = PredictorFileReader.open(f, arena);
            assertEquals(3, lp.layer());
            assertEquals(5, lp.rank());
            assertEquals(0.25f, lp.threshold());
            assertEquals(STATS, lp.stats());
            for (int i = 0; i < p.a.length; i++) assertEquals(p.a[i], lp.a().get(F32, 4L * i));
            for (int i = 0; i < p.b.length; i++) assertEquals(p.b[i], lp.b().get(F32, 4L * i));
            for (int i = 0; i < p.c.length; i++) assertEquals(p.c[i], lp.c().get(F32, 4L * i));
        }
    }

    @Test
    void f16FilesAreWidenedToHalfPrecisionValues() throws IOException {
        LowRank p = random(2, 16, 40, 4);
        Path f = dir.resolve("h.bin");
        PredictorFileWriter.write(f, 0, p, PredictorFormat.WeightType.F16, STATS);
        try (Arena arena = Arena.ofConfined()) {
            LayerPredictor lp = PredictorFileReader.open(f, arena);
            for (int i = 0; i < p.a.length; i++) assertEquals(Float.float16ToFloat(Float.floatToFloat16(p.a[i])), lp.a().get(F32, 4L * i));
            for (int i = 0; i < p.b.length; i++) assertEquals(Float.float16ToFloat(Float.floatToFloat16(p.b[i])), lp.b().get(F32, 4L * i));
            for (int i = 0; i < p.c.length; i++) assertEquals(p.c[i], lp.c().get(F32, 4L * i));
        }
    }

    @Test
    void q8FilesHoldPerRowScalesAndBytes() throws IOException {
        LowRank p = random(4, 40, 24, 6);
        Path f = dir.resolve("q.bin");
        PredictorFileWriter.Written w = PredictorFileWriter.write(f, 0, p, PredictorFormat.WeightType.Q8, STATS);
        assertEquals(4L * 6 + 6L * 40, w.aBytes());
        try (Arena arena = Arena.ofConfined()) {
            LayerPredictor lp = PredictorFileReader.open(f, arena);
            assertEquals(PredictorFormat.WeightType.Q8, lp.storage());
            for (int r = 0; r < 6; r++) {
                float max = 0;
                for (int c = 0; c < 40; c++) max = Math.max(max, Math.abs(p.a[r * 40 + c]));
                float scale = lp.aScale().get(F32, 4L * r);
                assertEquals(max / 127f, scale, 1e-7f);
                for (int c = 0; c < 40; c++) {
                    byte q = lp.a().get(ValueLayout.JAVA_BYTE, (long) r * 40 + c);
                    assertEquals(Math.round(p.a[r * 40 + c] / scale), q);
                    assertTrue(Math.abs(q * scale - p.a[r * 40 + c]) <= scale / 2 + 1e-6f);
                }
            }
            for (int j = 0; j < 24; j++) {
                float scale = lp.bScale().get(F32, 4L * j);
                for (int i = 0; i < 6; i++) {
                    assertEquals(p.b[j * 6 + i], lp.b().get(ValueLayout.JAVA_BYTE, (long) j * 6 + i) * scale, scale / 2 + 1e-6f);
                }
            }
        }
    }

    private String fault(Path f) {
        return assertThrows(PredictorException.class, () -> {
            try (Arena arena = Arena.ofConfined()) {
                PredictorFileReader.open(f, arena);
            }
        }).getMessage();
    }

    @Test
    void damageIsNamed() throws IOException {
        LowRank p = random(3, 16, 40, 4);
        byte[] good = handMade(1, p);
        Path f = dir.resolve("d.bin");
        byte[] b = good.clone();
        b[128 + 10] ^= 4;
        Files.write(f, b);
        assertTrue(fault(f).contains("checksum mismatch in section A"), fault(f));
        b = good.clone();
        b[b.length - 3] ^= 4;
        Files.write(f, b);
        assertTrue(fault(f).contains("section c"), fault(f));
        b = good.clone();
        b[20] ^= 1;
        Files.write(f, b);
        assertTrue(fault(f).contains("header checksum"), fault(f));
        Files.write(f, java.util.Arrays.copyOf(good, good.length - 8));
        assertTrue(fault(f).contains("outside") || fault(f).contains("bytes"), fault(f));
        Files.write(f, java.util.Arrays.copyOf(good, 50));
        assertTrue(fault(f).contains("too short"), fault(f));
        b = good.clone();
        b[8] = 7;
        Files.write(f, b);
        assertTrue(fault(f).contains("unsupported predictor version 7"), fault(f));
        b = good.clone();
        b[1] = 'X';
        Files.write(f, b);
        assertTrue(fault(f).contains("bad magic"), fault(f));
        assertTrue(fault(dir.resolve("none.bin")).contains("missing predictor file"));
    }
}
