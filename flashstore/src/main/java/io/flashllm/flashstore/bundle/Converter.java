package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.ModelFileException;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.writer.DiskSpace;
import io.flashllm.flashstore.writer.PartialOutputs;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code flashllm convert}: turns a GGUF file or HF directory into a flash bundle directory.
 *
 * <p>Everything is written into a hidden temporary sibling of the target, every file forced to
 * disk, the manifest last, then the directory renamed into place in one step. A conversion that
 * dies (kill -9, full disk, bad input) leaves no directory under the target name, and the
 * temporary one has no manifest so it never loads; a failure the JVM survives deletes it.
 */
public final class Converter {
    private static final System.Logger LOG = System.getLogger(Converter.class.getName());

    private Converter() {}

    /** Converts the GGUF file or HF directory at {@code model} into {@code out} (which must not exist). */
    public static ConvertReport convert(Path model, Path out, ConvertOptions options) {
        if (!Files.exists(model)) throw new BundleException(model, "model not found");
        try (SourceModel src = Files.isDirectory(model) ? HfSource.open(model) : GgufSource.open(model)) {
            return convert(src, out, options);
        } catch (ModelFileException e) {
            throw new BundleException(model, "cannot read the model: " + e.getMessage(), e);
        }
    }

    /**
     * A mixture of experts has no neuron bundles yet: said plainly rather than as missing FFN tensors. The model
     * file itself serves such a model: its experts stay memory-mapped on flash and only the routed ones are read.
     */
    private static void refuseExperts(SourceModel src, Path target) {
        for (String name : src.tensorNames()) {
            if (name.contains("ffn_gate_inp") || name.contains("block_sparse_moe.") || name.contains(".mlp.experts.")) {
                throw new BundleException(target, "mixture-of-experts models (" + src.architecture() + ", tensor " + name
                        + ") are not converted to flash bundles; serve the model file itself: its experts stay"
                        + " memory-mapped, only the ones the router picks are read, and --memory-budget keeps them to"
                        + " a share of DRAM");
            }
        }
    }

    public static ConvertReport convert(SourceModel src, Path out, ConvertOptions options) {
        long t0 = System.nanoTime();
        Path target = out.toAbsolutePath().normalize();
        if (Files.exists(target)) throw new BundleException(target, "already exists; remove it or choose another output directory");
        Path parent = target.getParent();
        if (parent == null || !Files.isDirectory(parent)) throw new BundleException(target, "parent directory does not exist");

        refuseExperts(src, target);
        List<FfnNames> ffn = FfnNames.detect(n -> src.tensor(n) != null);
        if (ffn.isEmpty()) throw new BundleException(target, "the model has no FFN tensors this converter recognizes");
        Plan plan = plan(src, ffn, options, target);

        Path tmp = parent.resolve("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        try {
            // The FFN files are the bulk of a bundle; the resident file checks its own size when written.
            DiskSpace.require(target, Math.multiplyExact((long) ffn.size(),
                    Math.multiplyExact((long) plan.layout.groupCount(), plan.layout.groupBytes())));
            PartialOutputs.writing(tmp);
            Files.createDirectories(tmp.resolve(BundleFormat.FFN_DIR));
            BundleOutput.Limits limits = new BundleOutput.Limits(options.testWriteLimit(), options.testThrottle());
            List<Manifest.FileEntry> files = new ArrayList<>();
            List<String> layerFiles = new ArrayList<>();
            long ffnBytes = 0;
            for (int l = 0; l < ffn.size(); l++) {
                FfnNames n = ffn.get(l);
                WeightTensor gate = plan.gateResident || n.gate() == null ? null : src.tensor(n.gate());
                WeightTensor up = src.tensor(n.up());
                DownColumns down = new DownColumns(src.tensor(n.down()), plan.downType);
                String rel = BundleFormat.layerFile(l);
                Manifest.FileEntry e = FfnFileWriter.write(tmp, rel, l, plan.layout, gate, up, down, limits);
                files.add(e);
                layerFiles.add(rel);
                ffnBytes += e.bytes();
                LOG.log(System.Logger.Level.DEBUG, "layer " + l + " written: " + e.bytes() + " bytes");
            }
            Set<String> excluded = new HashSet<>();
            List<List<String>> moved = new ArrayList<>();
            for (FfnNames n : ffn) {
                String movedGate = plan.gateResident ? null : n.gate();
                if (movedGate != null) excluded.add(movedGate);
                excluded.add(n.up());
                excluded.add(n.down());
                moved.add(Arrays.asList(movedGate, n.up(), n.down()));
            }
            long residentBytes = 0;
            for (Manifest.FileEntry e : src.writeResident(tmp, excluded)) {
                files.add(e);
                residentBytes += e.bytes();
            }
            List<Manifest.PartEntry> parts = plan.layout.parts().stream()
                    .map(p -> new Manifest.PartEntry(p.part().name(), p.type().name(), p.elements(), p.rowBytes())).toList();
            List<List<String>> residentFfn = new ArrayList<>();
            for (FfnNames n : ffn) residentFfn.add(Arrays.asList(plan.gateResident ? n.gate() : null, n.upBias(), n.downBias()));
            String residentFile = src.kind().equals("gguf") ? BundleFormat.RESIDENT_GGUF : BundleFormat.RESIDENT_SAFETENSORS;
            Manifest m = new Manifest(BundleFormat.FORMAT_NAME, BundleFormat.VERSION, "flashllm",
                    new Manifest.Source(src.kind(), src.name(), src.architecture()),
                    new Manifest.ModelConfig(src.architecture(), ffn.size(), plan.dim, plan.neurons, ffn.getFirst().gate() != null,
                            plan.activation.kind().name(), plan.activation.threshold()),
                    src.tokenizer(),
                    new Manifest.Layout(BundleLayout.ALIGNMENT, residentFile, plan.gateResident, options.minReadBytes(),
                            plan.downSource, plan.downType.name(), plan.layout.neuronsPerGroup(),
                            plan.layout.groupBytes(), parts, layerFiles, moved, residentFfn),
                    files);
            writeManifest(tmp, m, limits);
            fsyncDir(tmp.resolve(BundleFormat.FFN_DIR));
            fsyncDir(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            PartialOutputs.done(tmp);
            fsyncDir(parent);
            return new ConvertReport(target, ffn.size(), plan.neurons, plan.layout, plan.gateResident, plan.downType.name(),
                    ffnBytes, residentBytes, (System.nanoTime() - t0) / 1_000_000);
        } catch (FileAlreadyExistsException e) {
            deleteTree(tmp);
            throw new BundleException(target, "appeared while converting; not overwritten", e);
        } catch (IOException e) {
            deleteTree(tmp);
            throw new BundleException(target, "conversion failed, nothing written: " + describe(e), e);
        } catch (RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
    }

    /** downSource: the down matrices' source types, comma-separated in order of first use when layers differ. */
    private record Plan(BundleLayout layout, FfnActivation activation, boolean gateResident, String downSource,
                        GgmlType downType, int dim, int neurons) {}

    private static Plan plan(SourceModel src, List<FfnNames> ffn, ConvertOptions options, Path target) {
        FfnNames first = ffn.getFirst();
        WeightTensor up = src.tensor(first.up());
        WeightTensor gate = first.gate() == null ? null : src.tensor(first.gate());
        int neurons = up.rows();
        int dim = up.cols();
        boolean gated = gate != null;
        // The source types of the down matrices, by first use. llama.cpp's K mixes (Q4_K_M, Q5_K_M)
        // give ffn_down Q6_K in some layers only, and a rounding fallback can swap a type for another;
        // the columns are requantized or widened to one stored type anyway, so any mix converts.
        Set<GgmlType> downSources = new LinkedHashSet<>();
        for (FfnNames n : ffn) {
            WeightTensor u = src.tensor(n.up());
            WeightTensor d = src.tensor(n.down());
            WeightTensor g = n.gate() == null ? null : src.tensor(n.gate());
            if (u.rows() != neurons || u.cols() != dim || d.rows() != dim || d.cols() != neurons || (g != null) != gated
                    || (g != null && (g.rows() != neurons || g.cols() != dim))) {
                throw new BundleException(target, "FFN tensors of " + n.up() + " differ in shape from layer 0's;"
                        + " layers of different shapes are not supported");
            }
            // Gate and up rows are copied as they are, and every layer file must have layer 0's layout.
            if (u.type() != up.type() || (g != null && g.type() != gate.type())) {
                WeightTensor odd = u.type() != up.type() ? u : g;
                GgmlType want = u.type() != up.type() ? up.type() : gate.type();
                throw new BundleException(target, odd.name() + " is " + odd.type() + " where layer 0's is " + want
                        + "; gate and up matrices of mixed types across layers are not supported");
            }
            downSources.add(d.type());
        }
        FfnActivation act = options.activation() != null ? options.activation() : src.declaredActivation();
        if (act == null) act = new FfnActivation(gated ? FfnActivation.Kind.GATED_SILU : FfnActivation.Kind.RELU_NO_GATE, 0f);
        if (act.gated() != gated) {
            throw new BundleException(target, "activation " + act.kind() + " does not match the model, which is "
                    + (gated ? "gated" : "not gated"));
        }
        boolean gateResident = gated && (options.gateResident() != null ? options.gateResident() : act.sparse());
        GgmlType downType = switch (options.downType()) {
            case AUTO -> autoDownType(downSources);
            case F32 -> GgmlType.F32;
            case F16 -> GgmlType.F16;
            case Q8_0 -> GgmlType.Q8_0;
        };
        if (downType.bytesFor(dim) <= 0) downType = GgmlType.F32;
        List<PartSpec> parts = new ArrayList<>();
        if (gated && !gateResident) parts.add(new PartSpec(Part.GATE, gate.type(), dim));
        parts.add(new PartSpec(Part.UP, up.type(), dim));
        parts.add(new PartSpec(Part.DOWN, downType, dim));
        String downSource = String.join(",", downSources.stream().map(GgmlType::name).toList());
        return new Plan(BundleLayout.plan(parts, neurons, options.minReadBytes()), act, gateResident, downSource,
                downType, dim, neurons);
    }

    /**
     * Down columns of a quantized source are requantized to Q8_0 (quantized blocks cannot be
     * transposed); a float source keeps its type, which is exact, and F32 holds a mix of float types
     * exactly.
     */
    static GgmlType autoDownType(Set<GgmlType> sources) {
        if (sources.stream().anyMatch(GgmlType::quantized)) return GgmlType.Q8_0;
        return sources.size() == 1 ? sources.iterator().next() : GgmlType.F32;
    }

    private static void writeManifest(Path dir, Manifest m, BundleOutput.Limits limits) throws IOException {
        byte[] json = m.toJson().getBytes(StandardCharsets.UTF_8);
        try (BundleOutput o = new BundleOutput(dir.resolve(BundleFormat.MANIFEST), limits)) {
            o.write(MemorySegment.ofArray(json));
            o.finish();
        }
    }

    static void fsyncDir(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** The failure in words: a missing file or a refused one is otherwise just its path. */
    static String describe(IOException e) {
        return switch (e) {
            case java.nio.file.NoSuchFileException x -> "no such file or directory: " + x.getFile();
            case java.nio.file.AccessDeniedException x -> "permission denied: " + x.getFile();
            default -> e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        };
    }

    static void deleteTree(Path dir) {
        PartialOutputs.done(dir);
        try {
            PartialOutputs.remove(dir);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not remove the partial bundle " + dir + ": " + e.getMessage());
        }
    }

}
