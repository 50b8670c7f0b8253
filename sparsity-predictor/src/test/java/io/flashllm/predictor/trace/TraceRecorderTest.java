package io.flashllm.predictor.trace;

import io.flashllm.flashstore.ffn.BatchedFeedForward;
import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.predictor.calibrate.Calibrator;
import io.flashllm.predictor.math.Workers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceRecorderTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final int DIM = 8;
    static final int N = 70;

    @TempDir
    Path dir;

    /** out = (layer + 1) * x, one row at a time. */
    static final FeedForward SCALE = (layer, x, out) -> {
        for (int i = 0; i < DIM; i++) out[i] = (layer + 1) * x[i];
    };

    /** The same with a batched path that marks it was used. */
    static final class BatchedScale implements BatchedFeedForward {
        int batches;

        @Override
        public void forward(int layer, float[] x, float[] out) {
            SCALE.forward(layer, x, out);
        }

        @Override
        public void forwardBatch(int layer, float[] x, int batch, float[] out) {
            batches++;
            for (int i = 0; i < batch * DIM; i++) out[i] = (layer + 1) * x[i];
        }
    }

    @Test
    void tokenByTokenAndBatchedRecordingWriteTheSameTracesWithTrueMasks() throws IOException {
        Random r = new Random(51);
        try (Arena a = Arena.ofShared(); Workers w = new Workers(2)) {
            List<WeightTensor> gates = new ArrayList<>();
            float[][] g = new float[2][N * DIM];
            for (int l = 0; l < 2; l++) {
                MemorySegment s = a.allocate(4L * N * DIM);
                for (int i = 0; i < N * DIM; i++) {
                    g[l][i] = (float) r.nextGaussian();
                    s.set(F32, 4L * i, g[l][i]);
                }
                gates.add(new WeightTensor("gate" + l, GgmlType.F32, new long[] {DIM, N}, s));
            }
            ActivationOracle oracle = new ActivationOracle(gates, null, new FfnActivation(FfnActivation.Kind.GATED_FATRELU, 0.5f));
            int tokens = 37;
            float[][][] xs = new float[tokens][2][DIM];
            for (float[][] t : xs) for (float[] x : t) for (int i = 0; i < DIM; i++) x[i] = (float) r.nextGaussian();

            Path one = dir.resolve("one");
            try (TraceRecorder rec = new TraceRecorder(SCALE, oracle, one, TraceFormat.XType.F32, 8, w)) {
                float[] out = new float[DIM];
                for (float[][] t : xs) {
                    for (int l = 0; l < 2; l++) {
                        rec.forward(l, t[l], out);
                        for (int i = 0; i < DIM; i++) assertEquals((l + 1) * t[l][i], out[i]);
                    }
                }
                assertEquals(tokens, rec.records(1));
            }
            Path batched = dir.resolve("batched");
            BatchedScale bs = new BatchedScale();
            try (TraceRecorder rec = new TraceRecorder(bs, oracle, batched, TraceFormat.XType.F32, 8, w)) {
                for (int start = 0; start < tokens; start += 5) {
                    int n = Math.min(5, tokens - start);
                    for (int l = 0; l < 2; l++) {
                        float[] x = new float[n * DIM];
                        for (int t = 0; t < n; t++) System.arraycopy(xs[start + t][l], 0, x, t * DIM, DIM);
                        float[] out = new float[n * DIM];
                        rec.forwardBatch(l, x, n, out);
                        for (int i = 0; i < n * DIM; i++) assertEquals((l + 1) * x[i], out[i]);
                    }
                }
            }
            assertTrue(bs.batches > 0);
            for (int l = 0; l < 2; l++) {
                Path f1 = one.resolve(TraceFormat.layerFile(l));
                assertArrayEquals(Files.readAllBytes(f1), Files.readAllBytes(batched.resolve(TraceFormat.layerFile(l))));
                try (TraceReader rd = TraceReader.open(f1)) {
                    float[] x = new float[DIM];
                    long[] m = new long[2];
                    TraceReader.Cursor c = rd.cursor();
                    for (int t = 0; t < tokens; t++) {
                        assertEquals(1, c.next(x, m, 1));
                        assertArrayEquals(xs[t][l], x);
                        for (int j = 0; j < N; j++) {
                            double pre = 0;
                            for (int i = 0; i < DIM; i++) pre += (double) g[l][j * DIM + i] * x[i];
                            assertEquals(pre > 0.5, (m[j >>> 6] & (1L << (j & 63))) != 0, "token " + t + " neuron " + j);
                        }
                    }
                }
            }
        }
    }

    @Test
    void calibratorWalksWindowsAndBatches() {
        List<String> calls = new ArrayList<>();
        int[] tokens = new int[23];
        for (int i = 0; i < tokens.length; i++) tokens[i] = 100 + i;
        Calibrator.runPrefill(len -> {
            calls.add("open " + len);
            return (t, off, count, pos) -> calls.add(t[off] + "x" + count + "@" + pos);
        }, tokens, 10, 4, null);
        assertEquals(List.of("open 10", "100x4@0", "104x4@4", "108x2@8", "open 10", "110x4@0", "114x4@4", "118x2@8",
                "open 3", "120x3@0"), calls);
        List<String> single = new ArrayList<>();
        Calibrator.run(len -> (t, pos) -> {
            single.add(t + "@" + pos);
            return new float[1];
        }, new int[] {7, 8, 9}, 2, null);
        assertEquals(List.of("7@0", "8@1", "9@0"), single);
    }
}
