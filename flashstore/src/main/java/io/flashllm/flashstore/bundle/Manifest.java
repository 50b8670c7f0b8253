package io.flashllm.flashstore.bundle;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code manifest.json}: what the bundle holds and how to check it. Written last by the converter,
 * so a directory without it was never finished.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Manifest(String format, int formatVersion, String createdBy, Source source, ModelConfig model,
                       Tokenizer tokenizer, Layout layout, List<FileEntry> files) {

    /** Where the bundle came from. kind: "gguf" or "hf". */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Source(String kind, String name, String architecture) {}

    /** The FFN shape the bundles hold. activation: an {@code FfnActivation.Kind} name. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ModelConfig(String architecture, int layers, int dim, int ffnDim, boolean gated, String activation,
                              float activationThreshold) {}

    /** kind: "gguf-metadata" (inside the resident GGUF) or "tokenizer.json"; file holds it. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Tokenizer(String kind, String file) {}

    /**
     * residentFile: the memory-mappable file with every non-FFN tensor; gateResident: gate matrices
     * stay in it (and out of the bundles); downSource/downType: the source type of the down matrix
     * (comma-separated in order of first use when layers differ, as in llama.cpp's K mixes) and
     * the one type its columns are stored in; movedTensors: source tensors that live only in the
     * FFN files, per layer as [gate or null, up, down]; residentFfnTensors: FFN tensors the runtime
     * reads from the resident file, per layer as [gate or null, up bias or null, down bias or null].
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Layout(int alignment, String residentFile, boolean gateResident, int minReadBytes, String downSource,
                         String downType, int neuronsPerGroup, long groupBytes, List<PartEntry> parts,
                         List<String> layerFiles, List<List<String>> movedTensors,
                         List<List<String>> residentFfnTensors) {}

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record PartEntry(String part, String type, int elements, long rowBytes) {}

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record FileEntry(String path, long bytes, String sha256, List<Section> sections) {}

    /** A byte range of a file with its CRC32C as 8 hex digits. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Section(String name, long offset, long length, String crc32c) {}

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("manifest does not serialize", e);
        }
    }

    public FileEntry file(String path) {
        for (FileEntry f : files) if (f.path().equals(path)) return f;
        return null;
    }

    /** Reads and sanity-checks {@code dir/manifest.json}; faults name the file. */
    public static Manifest read(Path dir) {
        Path file = dir.resolve(BundleFormat.MANIFEST);
        if (!Files.isDirectory(dir)) throw new BundleException(dir, "not a directory (a flash bundle is a directory)");
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new BundleException(file, "missing: not a flash bundle, or its conversion never finished");
        } catch (IOException e) {
            throw new BundleException(file, "cannot be read: " + e.getMessage(), e);
        }
        Manifest m;
        try {
            m = JSON.readValue(text, Manifest.class);
        } catch (IOException e) {
            throw new BundleException(file, "is not valid manifest JSON: " + e.getMessage(), e);
        }
        if (!BundleFormat.FORMAT_NAME.equals(m.format())) {
            throw new BundleException(file, "format is '" + m.format() + "', expected '" + BundleFormat.FORMAT_NAME + "'");
        }
        if (m.formatVersion() != BundleFormat.VERSION) {
            throw new BundleException(file, "unsupported bundle format version " + m.formatVersion()
                    + " (this build reads version " + BundleFormat.VERSION + "); convert the model again");
        }
        if (m.model() == null || m.layout() == null || m.files() == null || m.layout().layerFiles() == null
                || m.layout().layerFiles().size() != m.model().layers()) {
            throw new BundleException(file, "incomplete manifest (model, layout or files missing)");
        }
        for (FileEntry f : m.files()) {
            Path p = dir.resolve(f.path()).normalize();
            if (!p.startsWith(dir.normalize())) throw new BundleException(file, "lists a file outside the bundle: " + f.path());
        }
        return m;
    }
}
