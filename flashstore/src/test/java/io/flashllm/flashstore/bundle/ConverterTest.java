package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.flashstore.gguf.GgufTensorInfo;
import io.flashllm.flashstore.writer.GgufWriter;
import io.flashllm.flashstore.writer.Quantizer;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.reference.ScalarReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class ConverterTest {
    @TempDir
    Path tmp;

    static List<GgmlType> types() {
        List<GgmlType> all = new java.util.ArrayList<>(TinyModel.ffnTypes());
        all.addAll(TinyModel.kTypes());
        return all;
    }

    /** Every bundle holds the source's exact gate/up row bytes and the down column, at the offsets the layout gives. */
    @ParameterizedTest
    @MethodSource("types")
    void roundTripBytesAndResident(GgmlType type) throws IOException {
        boolean k = TinyModel.kTypes().contains(type);
        int dim = k ? 256 : 64;
        int ffn = k ? 256 : 96;
        assertRoundTrip(new TinyModel(2, dim, ffn, type, true, 7), type.quantized() ? GgmlType.Q8_0 : type,
                type.name());
    }

    static Stream<Arguments> mixedDownTypes() {
        return Stream.of(
                // As Q4_K_M's ffn_down in a deeper model: Q6_K in its first and last layers, Q4_K between.
                Arguments.of(new TinyModel(3, 256, 256, GgmlType.Q4_K, true, 7)
                        .withDownTypes(GgmlType.Q6_K, GgmlType.Q4_K, GgmlType.Q6_K), GgmlType.Q8_0, "Q6_K,Q4_K"),
                // Q5_K_M with 96 neurons: down rows are not whole 256-blocks, Q5_K falls back to Q5_1, Q6_K to Q8_0.
                Arguments.of(new TinyModel(2, 256, 96, GgmlType.Q5_K, true, 7)
                        .withDownTypes(GgmlType.Q5_1, GgmlType.Q8_0), GgmlType.Q8_0, "Q5_1,Q8_0"),
                // Float types: F32 holds both exactly.
                Arguments.of(new TinyModel(2, 64, 96, GgmlType.F16, true, 7)
                        .withDownTypes(GgmlType.F16, GgmlType.BF16), GgmlType.F32, "F16,BF16"));
    }

    /** Down matrices whose type changes between layers (llama.cpp's K mixes) convert, into one stored type. */
    @ParameterizedTest
    @MethodSource("mixedDownTypes")
    void downTypesMayDifferBetweenLayers(TinyModel tm, GgmlType stored, String sources) throws IOException {
        assertRoundTrip(tm, stored, sources);
    }

    @Test
    void refusesGateOrUpTypesThatDifferBetweenLayers() throws IOException {
        // Layer 0 in Q4_0, layer 1 in Q8_0 throughout (TinyModel has one gate/up type, so by hand).
        Path src = tmp.resolve("m.gguf");
        int dim = 64, ffn = 64;
        GgufWriter w = new GgufWriter(src);
        w.putString("general.architecture", "llama");
        Random r = new Random(3);
        for (int l = 0; l < 2; l++) {
            GgmlType t = l == 0 ? GgmlType.Q4_0 : GgmlType.Q8_0;
            for (String m : List.of("gate", "up", "down")) {
                float[] v = TinyModel.gaussian(r, dim * ffn, 0.3f);
                byte[] b = Quantizer.quantize(t, v);
                w.addTensor("blk." + l + ".ffn_" + m + ".weight", t, new long[] {dim, ffn}, out -> out.put(b));
            }
        }
        w.write();
        BundleException e = assertThrows(BundleException.class, () -> Converter.convert(src, tmp.resolve("b"),
                ConvertOptions.defaults().withActivation(new FfnActivation(FfnActivation.Kind.GATED_SILU, 0))));
        assertTrue(e.getMessage().contains("blk.1.ffn_up.weight is Q8_0 where layer 0's is Q4_0"), e.getMessage());
    }

    private void assertRoundTrip(TinyModel tm, GgmlType downType, String downSource) throws IOException {
        int dim = tm.dim;
        int ffn = tm.ffn;
        Path src = tm.write(tmp.resolve("m.gguf"));
        Path out = tmp.resolve("bundle");
        ConvertReport rep = Converter.convert(src, out, ConvertOptions.defaults().withGateResident(false)
                .withActivation(new FfnActivation(FfnActivation.Kind.GATED_SILU, 0)).withMinReadBytes(4096));
        assertEquals(tm.layers, rep.layers());
        assertEquals(ffn, rep.neuronsPerLayer());
        Manifest m = Manifest.read(out);
        assertEquals(BundleFormat.VERSION, m.formatVersion());
        assertFalse(m.layout().gateResident());
        assertEquals(downType.name(), m.layout().downType());
        assertEquals(downSource, m.layout().downSource());
        for (Manifest.PartEntry p : m.layout().parts()) {
            GgmlType t = p.part().equals("DOWN") ? downType : tm.ffnType;
            assertEquals(t.name(), p.type(), p.part());
            assertEquals(t.bytesFor(dim), p.rowBytes(), p.part());
        }

        try (GgufFile g = GgufFile.open(src); GgufFile res = GgufFile.open(out.resolve(BundleFormat.RESIDENT_GGUF));
             Arena arena = Arena.ofConfined()) {
            // Resident: metadata identical (types too), every non-FFN tensor byte-identical, FFN weights gone.
            for (String key : g.metadata().keySet()) {
                if (key.equals("general.alignment")) continue;
                assertEquals(g.metadata().get(key), res.metadata().get(key), key);
                assertEquals(g.valueType(key), res.valueType(key), key);
            }
            for (GgufTensorInfo info : g.tensorInfos()) {
                boolean moved = info.name().matches("blk\\.\\d+\\.ffn_(gate|up|down)\\.weight");
                WeightTensor t = res.tensor(info.name());
                if (moved) {
                    assertNull(t, info.name());
                } else {
                    assertNotNull(t, info.name());
                    assertEquals(-1, g.tensor(info.name()).data().mismatch(t.data()), info.name());
                }
            }
            for (int l = 0; l < tm.layers; l++) {
                Path lf = out.resolve(BundleFormat.layerFile(l));
                MemorySegment file;
                try (FileChannel ch = FileChannel.open(lf, StandardOpenOption.READ)) {
                    file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
                }
                FfnFileHeader h = FfnFileHeader.read(lf, file, file.byteSize());
                BundleLayout lay = h.layout();
                assertEquals(0, lay.groupBytes() % 4096);
                // The fewest neurons per group that make a 4096-byte read (or the whole layer).
                int k = lay.neuronsPerGroup();
                assertTrue(k == ffn || k * lay.neuronBytes() >= 4096, "group of " + k);
                assertTrue(k == 1 || (k - 1) * lay.neuronBytes() < 4096, "group of " + k);
                WeightTensor gate = g.tensor("blk." + l + ".ffn_gate.weight");
                WeightTensor up = g.tensor("blk." + l + ".ffn_up.weight");
                WeightTensor down = g.tensor("blk." + l + ".ffn_down.weight");
                float[][] downRows = new float[dim][];
                for (int r = 0; r < dim; r++) downRows[r] = ScalarReference.dequantizeRow(down, r);
                for (int j = 0; j < ffn; j++) {
                    long base = h.groupOffset(lay.groupOf(j)) + lay.offsetInGroup(j);
                    assertEquals(-1, gate.row(j).mismatch(file.asSlice(base + lay.partOffset(Part.GATE), gate.rowBytes())));
                    assertEquals(-1, up.row(j).mismatch(file.asSlice(base + lay.partOffset(Part.UP), up.rowBytes())));
                    float[] col = new float[dim];
                    ScalarReference.dequantize(downType, file.asSlice(base + lay.partOffset(Part.DOWN)), 0, col, 0, dim);
                    float[] want = new float[dim];
                    for (int r = 0; r < dim; r++) want[r] = downRows[r][j];
                    for (int r = 0; r < dim; r++) {
                        if (!downType.quantized()) {
                            assertEquals(want[r], col[r], 0f, "layer " + l + " neuron " + j + " row " + r);
                        } else {
                            // Q8_0 requantization: half a step of this 32-element block, plus the F16 scale's rounding.
                            float amax = 0;
                            for (int i = r / 32 * 32; i < r / 32 * 32 + 32; i++) amax = Math.max(amax, Math.abs(want[i]));
                            assertEquals(want[r], col[r], 0.6f * amax / 127, "requantized down column " + j);
                        }
                    }
                }
            }
        }
        VerifyReport v = Verifier.verify(out);
        assertTrue(v.ok(), v.toString());
    }

    @Test
    void refusesExistingOutputAndLeavesNoTemporaryOnFailure() throws IOException {
        Path src = new TinyModel(1, 64, 64, GgmlType.F32, true, 1).write(tmp.resolve("m.gguf"));
        Path out = tmp.resolve("b");
        Files.createDirectory(out);
        BundleException e = assertThrows(BundleException.class, () -> Converter.convert(src, out, ConvertOptions.defaults()));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        Path missing = tmp.resolve("nope.gguf");
        assertTrue(assertThrows(BundleException.class, () -> Converter.convert(missing, tmp.resolve("c"), ConvertOptions.defaults()))
                .getMessage().contains("not found"));
        try (var s = Files.list(tmp)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().contains(".tmp-")).toList());
        }
    }

    @Test
    void anUnwritableOutputSaysWhy() throws IOException {
        Path src = new TinyModel(1, 64, 64, GgmlType.F32, true, 1).write(tmp.resolve("m.gguf"));
        // /proc takes no new directories, for root too
        BundleException e = assertThrows(BundleException.class,
                () -> Converter.convert(src, Path.of("/proc/flashllm-test.bundle"), ConvertOptions.defaults()));
        assertTrue(e.getMessage().contains("no such file or directory: /proc/")
                || e.getMessage().contains("permission denied: /proc/"), e.getMessage());
    }

    @Test
    void simulatedDiskFullLeavesNothing() throws IOException {
        Path src = new TinyModel(2, 64, 96, GgmlType.Q8_0, true, 3).write(tmp.resolve("m.gguf"));
        Path out = tmp.resolve("b");
        BundleException e = assertThrows(BundleException.class,
                () -> Converter.convert(src, out, ConvertOptions.defaults().withTestWriteLimit(20_000)));
        assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
        assertFalse(Files.exists(out));
        try (var s = Files.list(tmp)) {
            assertEquals(List.of(src), s.toList(), "temporary directory removed");
        }
    }

    @Test
    void groupsReachMinimumReadSize() {
        List<PartSpec> parts = List.of(new PartSpec(Part.UP, GgmlType.Q8_0, 2048), new PartSpec(Part.DOWN, GgmlType.Q8_0, 2048));
        BundleLayout l = BundleLayout.plan(parts, 8192, 32 * 1024);
        assertTrue(l.neuronsPerGroup() * l.neuronBytes() >= 32 * 1024);
        assertEquals(0, l.groupBytes() % 4096);
        assertEquals((8192 + l.neuronsPerGroup() - 1) / l.neuronsPerGroup(), l.groupCount());
        // a neuron larger than the minimum gets a group of its own
        BundleLayout big = BundleLayout.plan(List.of(new PartSpec(Part.UP, GgmlType.F32, 8192), new PartSpec(Part.DOWN, GgmlType.F32, 8192)), 10, 32 * 1024);
        assertEquals(1, big.neuronsPerGroup());
        assertEquals(65536, big.groupBytes());
        Objects.requireNonNull(ValueLayout.JAVA_BYTE);
    }
}
