package io.flashllm.predictor.format;

import io.flashllm.flashstore.bundle.Checksums;
import io.flashllm.flashstore.bundle.Manifest;
import io.flashllm.predictor.PredictorException;
import io.flashllm.predictor.train.LowRank;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Adds trained predictors to a bundle so that a crash at any moment leaves a bundle that opens:
 * the files go into a fresh generation directory nobody references yet, are forced to disk, and
 * only then is the manifest replaced (written to a temporary file, forced, atomically renamed over
 * {@code manifest.json}, directory forced). Older generations are deleted afterwards.
 */
public final class PredictorStore {
    /** A trained layer ready to be stored. */
    public record Entry(int layer, LowRank predictor, PredictorStats stats) {}

    private PredictorStore() {}

    /** Writes {@code entries} (one per layer, in order) into the bundle at {@code dir}; returns the generation name. */
    public static String write(Path dir, List<Entry> entries, PredictorFormat.WeightType type) {
        Manifest m = Manifest.read(dir);
        int layers = m.model().layers();
        if (entries.size() != layers) {
            throw new PredictorException(dir, entries.size() + " predictors for a model with " + layers + " layers");
        }
        for (int l = 0; l < layers; l++) {
            Entry e = entries.get(l);
            if (e.layer() != l || e.predictor().dim != m.model().dim() || e.predictor().neurons != m.model().ffnDim()) {
                throw new PredictorException(dir, "predictor " + l + " (layer " + e.layer() + ", " + e.predictor().neurons + "x"
                        + e.predictor().dim + ") does not fit the model's FFN " + m.model().ffnDim() + "x" + m.model().dim());
            }
        }
        Path root = dir.resolve(PredictorFormat.DIR);
        String gen = newGeneration(root);
        Path genDir = root.resolve(gen);
        List<Manifest.FileEntry> added = new ArrayList<>();
        try {
            Files.createDirectories(genDir);
            for (Entry e : entries) {
                String rel = PredictorFormat.layerFile(gen, e.layer());
                Path file = dir.resolve(rel);
                PredictorFileWriter.Written w = PredictorFileWriter.write(file, e.layer(), e.predictor(), type, e.stats());
                List<Manifest.Section> sections = List.of(
                        new Manifest.Section("header", 0, PredictorFormat.HEADER_BYTES, Checksums.hex(w.headerCrc())),
                        new Manifest.Section("a", w.aOffset(), w.aBytes(), Checksums.hex(w.aCrc())),
                        new Manifest.Section("b", w.bOffset(), w.bBytes(), Checksums.hex(w.bCrc())),
                        new Manifest.Section("c", w.cOffset(), w.cBytes(), Checksums.hex(w.cCrc())));
                added.add(new Manifest.FileEntry(rel, w.bytes(), Checksums.sha256(file), sections));
            }
            forceDir(genDir);
            forceDir(root);
        } catch (IOException e) {
            deleteTree(genDir);
            throw new PredictorException(genDir, "cannot write the predictors: " + e.getMessage(), e);
        }
        List<Manifest.FileEntry> files = new ArrayList<>();
        for (Manifest.FileEntry f : m.files()) if (!isPredictor(f.path())) files.add(f);
        files.addAll(added);
        Manifest updated = new Manifest(m.format(), m.formatVersion(), m.createdBy(), m.source(), m.model(), m.tokenizer(),
                m.layout(), files);
        replaceManifest(dir, updated);
        removeOtherGenerations(root, gen);
        return gen;
    }

    static boolean isPredictor(String path) {
        return path.startsWith(PredictorFormat.DIR + "/");
    }

    /** Atomically replaces {@code dir/manifest.json}. */
    static void replaceManifest(Path dir, Manifest m) {
        Path target = dir.resolve("manifest.json");
        Path tmp = dir.resolve("manifest.json.tmp-" + ProcessHandle.current().pid());
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                var buf = java.nio.ByteBuffer.wrap(m.toJson().getBytes(StandardCharsets.UTF_8));
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system cannot rename atomically; refusing to replace the manifest in place", e);
            }
            forceDir(dir);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the manifest itself was not touched
            }
            throw new PredictorException(target, "cannot be replaced: " + e.getMessage(), e);
        }
    }

    private static String newGeneration(Path root) {
        String base = "g" + java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss")
                .withZone(java.time.ZoneOffset.UTC).format(java.time.Instant.now());
        String gen = base;
        for (int i = 1; Files.exists(root.resolve(gen)); i++) gen = base + "-" + i;
        return gen;
    }

    private static void removeOtherGenerations(Path root, String keep) {
        Set<Path> stale = new HashSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) if (!p.getFileName().toString().equals(keep)) stale.add(p);
        } catch (IOException e) {
            return; // leftovers cost disk space only; the manifest no longer names them
        }
        for (Path p : stale) deleteTree(p);
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        } catch (IOException ignored) {
            // best effort: unreferenced files do not affect the bundle
        }
    }

    /** Forces a directory's entries to disk (Linux allows opening a directory for reading). */
    static void forceDir(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            if (!System.getProperty("os.name", "").toLowerCase().contains("win")) throw e;
        }
    }
}
