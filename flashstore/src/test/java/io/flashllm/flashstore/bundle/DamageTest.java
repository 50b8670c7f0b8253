package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.GgmlType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.*;

/** Each class of damage is refused at open (or at first read, for FFN groups under QUICK) with a message naming file and fault. */
class DamageTest {
    @TempDir
    Path tmp;
    Path bundle;

    @BeforeEach
    void convert() throws IOException {
        Path src = new TinyModel(2, 64, 96, GgmlType.Q8_0, true, 21).write(tmp.resolve("m.gguf"));
        bundle = tmp.resolve("b");
        Converter.convert(src, bundle, ConvertOptions.defaults()
                .withActivation(new FfnActivation(FfnActivation.Kind.GATED_RELU, 0)).withMinReadBytes(4096));
        assertTrue(Verifier.verify(bundle).ok());
    }

    private BundleException openFails(BundleOpenOptions.Verify v) {
        return assertThrows(BundleException.class, () -> BundleModel.open(bundle, BundleOpenOptions.defaults().withVerify(v)).close());
    }

    private static void flipByte(Path f, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            var b = java.nio.ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x10));
            b.rewind();
            ch.write(b, offset);
        }
    }

    @Test
    void intactBundleOpensAndVerifies() {
        BundleModel.open(bundle, BundleOpenOptions.defaults().withVerify(BundleOpenOptions.Verify.FULL)).close();
        VerifyReport r = Verifier.verify(bundle);
        assertTrue(r.ok(), r.toString());
        assertEquals(3, r.files());
        assertTrue(r.groups() > 0);
    }

    @Test
    void truncatedFile() throws IOException {
        Path f = bundle.resolve(BundleFormat.layerFile(1));
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 4096);
        }
        BundleException e = openFails(BundleOpenOptions.Verify.NONE);
        assertTrue(e.getMessage().contains("layer-001.bin") && e.getMessage().contains("truncated"), e.getMessage());
        VerifyReport r = Verifier.verify(bundle);
        assertFalse(r.ok());
        assertTrue(r.faults().getFirst().contains("truncated"), r.toString());
    }

    @Test
    void flippedByteInResidentTensor() throws IOException {
        Path f = bundle.resolve(BundleFormat.RESIDENT_GGUF);
        flipByte(f, Files.size(f) - 100);
        BundleException e = openFails(BundleOpenOptions.Verify.QUICK);
        assertTrue(e.getMessage().contains("resident.gguf") && e.getMessage().contains("checksum mismatch"), e.getMessage());
        VerifyReport r = Verifier.verify(bundle);
        assertTrue(r.faults().stream().anyMatch(s -> s.contains("SHA-256 mismatch")), r.toString());
        assertTrue(r.faults().stream().anyMatch(s -> s.contains("section 'tensor:")), r.toString());
    }

    @Test
    void flippedByteInNeuronGroup() throws IOException {
        Path f = bundle.resolve(BundleFormat.layerFile(0));
        flipByte(f, FfnFileHeader.SIZE + 10);
        // QUICK open does not read groups; the first read of the damaged group fails, naming it.
        try (BundleModel bm = BundleModel.open(bundle, BundleOpenOptions.defaults().withSelector("dense"))) {
            BundleException e = assertThrows(BundleException.class, () -> bm.feedForward().forward(0, new float[64], new float[64]));
            assertTrue(e.getMessage().contains("layer-000.bin") && e.getMessage().contains("neuron group 0"), e.getMessage());
            assertEquals(0, bm.feedForward().cache(0).used(), "a failed load leaves no half-filled rows");
        }
        BundleException e = openFails(BundleOpenOptions.Verify.FULL);
        assertTrue(e.getMessage().contains("layer-000.bin") && e.getMessage().contains("checksum"), e.getMessage());
        VerifyReport r = Verifier.verify(bundle);
        assertTrue(r.faults().stream().anyMatch(s -> s.contains("neuron group 0")), r.toString());
    }

    @Test
    void flippedByteInFfnHeader() throws IOException {
        flipByte(bundle.resolve(BundleFormat.layerFile(1)), 17);
        BundleException e = openFails(BundleOpenOptions.Verify.NONE);
        assertTrue(e.getMessage().contains("layer-001.bin") && e.getMessage().contains("header"), e.getMessage());
    }

    @Test
    void missingFile() throws IOException {
        Files.delete(bundle.resolve(BundleFormat.layerFile(0)));
        BundleException e = openFails(BundleOpenOptions.Verify.NONE);
        assertTrue(e.getMessage().contains("layer-000.bin") && e.getMessage().contains("missing"), e.getMessage());
        Files.delete(bundle.resolve(BundleFormat.MANIFEST));
        e = openFails(BundleOpenOptions.Verify.NONE);
        assertTrue(e.getMessage().contains("manifest.json") && e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void wrongVersion() throws IOException {
        Path mf = bundle.resolve(BundleFormat.MANIFEST);
        Files.writeString(mf, Files.readString(mf).replaceFirst("\"formatVersion\" : 1", "\"formatVersion\" : 99"));
        BundleException e = openFails(BundleOpenOptions.Verify.NONE);
        assertTrue(e.getMessage().contains("manifest.json") && e.getMessage().contains("version 99"), e.getMessage());
        assertFalse(Verifier.verify(bundle).ok());
    }

    /** An FFN file of another format version (header consistent, CRC recomputed) is refused by version. */
    @Test
    void wrongVersionInFfnHeader() throws IOException {
        Path f = bundle.resolve(BundleFormat.layerFile(0));
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE);
             java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            var head = ch.map(FileChannel.MapMode.READ_WRITE, 0, FfnFileHeader.SIZE, arena);
            var le = java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
            head.set(le, 8, 2);
            head.set(le, FfnFileHeader.SIZE - 4, Checksums.crc32c(head, 0, FfnFileHeader.SIZE - 4));
            head.force();
        }
        BundleException e = assertThrows(BundleException.class, () -> FfnFile.open(f, false));
        assertTrue(e.getMessage().contains("layer-000.bin") && e.getMessage().contains("version 2"), e.getMessage());
        e = openFails(BundleOpenOptions.Verify.QUICK);
        assertTrue(e.getMessage().contains("layer-000.bin"), e.getMessage());
    }

    @Test
    void garbageManifest() throws IOException {
        Files.writeString(bundle.resolve(BundleFormat.MANIFEST), "{ not json");
        BundleException e = openFails(BundleOpenOptions.Verify.NONE);
        assertTrue(e.getMessage().contains("manifest.json") && e.getMessage().contains("not valid manifest JSON"), e.getMessage());
    }
}
