package io.flashllm.flashstore.bundle;

import io.flashllm.kernels.GgmlType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** A conversion that dies half way never leaves a directory that loads. */
class InterruptedConvertTest {
    @TempDir
    Path tmp;

    @Test
    void killMinus9MidWrite() throws Exception {
        Path src = new TinyModel(4, 256, 512, GgmlType.F32, true, 2).write(tmp.resolve("m.gguf"));
        Path out = tmp.resolve("b");
        Process p = startConvertChild(src, out);
        Path partial = awaitPartial(p);
        p.destroyForcibly(); // SIGKILL
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertNotEquals(0, p.exitValue());

        assertFalse(Files.exists(out), "the target never appears");
        Path left = partial;
        BundleException e = assertThrows(BundleException.class, () -> BundleModel.open(left, BundleOpenOptions.defaults()));
        assertTrue(e.getMessage().contains("manifest.json") && e.getMessage().contains("missing"), e.getMessage());
        assertFalse(Verifier.verify(left).ok());
        assertFalse(BundleModel.isBundle(left));

        // The leftover does not get in the way of converting again.
        Converter.convert(src, out, ConvertOptions.defaults().withMinReadBytes(4096));
        assertTrue(Verifier.verify(out).ok());
    }

    @Test
    void sigtermMidWriteRemovesTheTemporaryDirectory() throws Exception {
        Path src = new TinyModel(4, 256, 512, GgmlType.F32, true, 2).write(tmp.resolve("m.gguf"));
        Path out = tmp.resolve("b");
        Process p = startConvertChild(src, out);
        Path partial = awaitPartial(p);
        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertFalse(Files.exists(partial), "temporary directory removed on SIGTERM");
        assertFalse(Files.exists(out), "the target never appears");
    }

    /** Too little space for the FFN files: refused before any byte is written (needs root and mount). */
    @Test
    void refusesABundleLargerThanTheFreeSpaceBeforeWriting() throws Exception {
        onTmpfs("1m", mnt -> {
            Path src = new TinyModel(2, 256, 512, GgmlType.F32, true, 4).write(tmp.resolve("m2.gguf"));
            BundleException e = assertThrows(BundleException.class,
                    () -> Converter.convert(src, mnt.resolve("b"), ConvertOptions.defaults().withMinReadBytes(4096)));
            assertTrue(e.getMessage().contains("needs 4.0 MiB") && e.getMessage().contains("free"), e.getMessage());
        });
    }

    /**
     * A real full disk mid-write: the FFN groups (4 MiB) pass the space check, but with the files'
     * headers and checksum tables and the resident part they do not fit (needs root and mount).
     */
    @Test
    void realDiskFullOnTinyTmpfs() throws Exception {
        onTmpfs("4100k", mnt -> {
            Path src = new TinyModel(2, 256, 512, GgmlType.F32, true, 4).write(tmp.resolve("m.gguf"));
            Path out = mnt.resolve("b");
            BundleException e = assertThrows(BundleException.class,
                    () -> Converter.convert(src, out, ConvertOptions.defaults().withMinReadBytes(4096)));
            assertTrue(e.getMessage().contains("No space left on device") && !e.getMessage().contains("needs"),
                    "a failed write, not the check before: " + e.getMessage());
            assertFalse(Files.exists(out));
        });
    }

    private interface OnMount {
        void run(Path mnt) throws Exception;
    }

    /** Runs {@code body} in a fresh tmpfs of {@code size}, then checks that nothing was left in it. */
    private void onTmpfs(String size, OnMount body) throws Exception {
        Path mnt = Files.createDirectory(tmp.resolve("tmpfs-" + size));
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", mnt.toString())
                .redirectErrorStream(true).start();
        boolean mounted = mount.waitFor(20, TimeUnit.SECONDS) && mount.exitValue() == 0;
        Assumptions.assumeTrue(mounted, "cannot mount a tmpfs here (not root?); the simulated full disk test covers this");
        try {
            body.run(mnt);
            try (var s = Files.list(mnt)) {
                assertEquals(List.of(), s.toList(), "partial output removed");
            }
        } finally {
            new ProcessBuilder("umount", mnt.toString()).start().waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void childClassIsTheRealConverter() throws IOException {
        Path src = new TinyModel(1, 64, 64, GgmlType.F16, true, 8).write(tmp.resolve("m.gguf"));
        ConvertChild.main(new String[] {src.toString(), tmp.resolve("c").toString(), "0"});
        assertTrue(Verifier.verify(tmp.resolve("c")).ok());
    }

    /** A child JVM converting {@code src} into {@code out}, throttled to 1 MB/s so it can be stopped mid-write. */
    private Process startConvertChild(Path src, Path out) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), ConvertChild.class.getName(), src.toString(), out.toString(), "1000000")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
    }

    /** The child's temporary bundle directory once its first layer file has 100 kB in it. */
    private Path awaitPartial(Process p) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && p.isAlive()) {
            try (var s = Files.list(tmp)) {
                for (Path d : s.filter(d -> d.getFileName().toString().startsWith(".b.tmp-")).toList()) {
                    Path l0 = d.resolve(BundleFormat.layerFile(0));
                    if (Files.exists(l0) && Files.size(l0) > 100_000) return d;
                }
            }
            Thread.sleep(20);
        }
        return fail("child started writing: " + Files.readString(tmp.resolve("child.log")));
    }
}
