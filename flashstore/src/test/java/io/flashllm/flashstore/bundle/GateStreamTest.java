package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.flashstore.gguf.GgufTensorInfo;
import io.flashllm.flashstore.writer.GgufWriter;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class GateStreamTest {
    @TempDir
    Path tmp;

    @Test
    void neighbouringLayersNeverShareABuffer() {
        for (int layers = 1; layers <= 9; layers++) {
            int slots = GateStream.slotCount(layers);
            for (int l = 0; l < layers; l++) {
                int s = GateStream.slotFor(l, layers);
                assertTrue(s >= 0 && s < slots, layers + " layers: layer " + l + " slot " + s);
                int next = (l + 1) % layers;
                if (next != l) assertNotEquals(s, GateStream.slotFor(next, layers), layers + " layers: " + l + " and " + next);
            }
        }
    }

    /** Gates of odd sizes at unaligned offsets, the last one ending the file inside a block. */
    @Test
    void everyViewHoldsItsGateAfterAcquireInAnyOrder() throws IOException {
        for (int layers : new int[] {1, 2, 3, 4}) {
            Path file = tmp.resolve("g" + layers + ".gguf");
            Random r = new Random(layers);
            GgufWriter w = new GgufWriter(file);
            w.putString("general.architecture", "llama");
            for (int l = 0; l < layers; l++) {
                int rows = 37 + 11 * l, cols = 64;
                float[] v = new float[rows * cols];
                for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
                w.addTensor("other." + l, GgmlType.F32, new long[] {8}, new float[8]);
                w.addTensor("blk." + l + ".ffn_gate.weight", GgmlType.Q8_0, new long[] {cols, rows}, v);
            }
            w.write();
            for (boolean direct : new boolean[] {true, false}) {
                try (GgufFile g = GgufFile.open(file)) {
                    List<GateStream.Source> sources = new ArrayList<>();
                    for (int l = 0; l < layers; l++) {
                        String name = "blk." + l + ".ffn_gate.weight";
                        GgufTensorInfo info = g.tensorInfos().stream().filter(i -> i.name().equals(name)).findFirst().orElseThrow();
                        sources.add(new GateStream.Source(g.tensor(name), g.dataStart() + info.offset()));
                    }
                    try (GateStream s = new GateStream(file, sources, direct)) {
                        long[] read = new long[layers];
                        s.onRead((layer, bytes, nanos) -> {
                            synchronized (read) {
                                read[layer] += bytes;
                            }
                        });
                        int[] order = {0, 1, 2, 3, 0, 1, 3, 3, 2, 0, 2};
                        for (int l : order) {
                            if (l >= layers) continue;
                            s.acquire(l);
                            WeightTensor view = s.gates().get(l);
                            WeightTensor mapped = sources.get(l).mapped();
                            assertEquals(mapped.rows(), view.rows());
                            assertEquals(mapped.cols(), view.cols());
                            assertEquals(mapped.type(), view.type());
                            assertEquals(-1, view.data().mismatch(mapped.data()),
                                    layers + " layers, direct " + direct + ": layer " + l + " differs");
                        }
                        synchronized (read) {
                            for (int l = 0; l < layers; l++) {
                                assertTrue(read[l] > 0 || direct && l == layers - 1 && sources.get(l).mapped().data().byteSize() < 4096,
                                        "layer " + l + " reads counted");
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void aGateOutsideTheFileOrAFileThatShrinksIsReportedWithItsName() throws IOException {
        Path file = tmp.resolve("t.gguf");
        GgufWriter w = new GgufWriter(file);
        w.putString("general.architecture", "llama");
        for (int l = 0; l < 4; l++) {
            w.addTensor("blk." + l + ".ffn_gate.weight", GgmlType.F32, new long[] {64, 64}, new float[64 * 64]);
        }
        w.write();
        try (GgufFile g = GgufFile.open(file)) {
            List<GateStream.Source> sources = new ArrayList<>();
            for (int l = 0; l < 4; l++) {
                String name = "blk." + l + ".ffn_gate.weight";
                GgufTensorInfo info = g.tensorInfos().stream().filter(i -> i.name().equals(name)).findFirst().orElseThrow();
                sources.add(new GateStream.Source(g.tensor(name), g.dataStart() + info.offset()));
            }
            List<GateStream.Source> beyond = List.of(sources.get(0), new GateStream.Source(sources.get(1).mapped(), 1L << 40));
            IOException e = assertThrows(IOException.class, () -> new GateStream(file, beyond, false));
            assertTrue(e.getMessage().contains("t.gguf") && e.getMessage().contains("beyond the end"), e.getMessage());

            try (GateStream s = new GateStream(file, sources, false)) {
                s.acquire(0);
                s.acquire(1);
                // the file loses its last two gates; four layers in two buffers are read again every round
                try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                    ch.truncate(sources.get(2).fileOffset() + 100);
                }
                RuntimeException x = assertThrows(RuntimeException.class, () -> {
                    for (int i = 0; i < 8; i++) s.acquire(i % 4);
                });
                assertTrue(x.getMessage().contains("t.gguf") && x.getMessage().contains("truncated"), x.getMessage());
            }
        }
    }
}
