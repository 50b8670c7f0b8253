package io.flashllm.predictor.format;

import io.flashllm.flashstore.bundle.Manifest;
import io.flashllm.predictor.PredictorException;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every layer's predictor of a bundle, mapped for the life of this object. The manifest names the
 * files (one generation, {@code predictors/<generation>/layer-NNN.bin}); the bundle loader has
 * already checked their sizes and section CRCs against it, and each file checks itself again.
 */
public final class PredictorSet implements AutoCloseable {
    static final Pattern LAYER_FILE = Pattern.compile("predictors/([A-Za-z0-9_-]+)/layer-(\\d{3,})\\.bin");

    private final Arena arena;
    private final List<LayerPredictor> layers;
    private final String generation;

    private PredictorSet(Arena arena, List<LayerPredictor> layers, String generation) {
        this.arena = arena;
        this.layers = layers;
        this.generation = generation;
    }

    /** True when the bundle's manifest lists predictor files. */
    public static boolean present(Manifest m) {
        for (Manifest.FileEntry e : m.files()) if (LAYER_FILE.matcher(e.path()).matches()) return true;
        return false;
    }

    /** Opens the predictors of the bundle at {@code dir}. */
    public static PredictorSet open(Path dir) {
        return open(dir, Manifest.read(dir));
    }

    public static PredictorSet open(Path dir, Manifest m) {
        int n = m.model().layers();
        String[] paths = new String[n];
        String gen = null;
        for (Manifest.FileEntry e : m.files()) {
            Matcher mt = LAYER_FILE.matcher(e.path());
            if (!mt.matches()) continue;
            int layer = Integer.parseInt(mt.group(2));
            if (gen != null && !gen.equals(mt.group(1))) {
                throw new PredictorException(dir.resolve("manifest.json"), "lists predictors of two calibrations (" + gen + ", "
                        + mt.group(1) + ")");
            }
            gen = mt.group(1);
            if (layer >= n || paths[layer] != null) {
                throw new PredictorException(dir.resolve("manifest.json"), "lists predictor " + e.path() + " for a layer the model"
                        + " does not have or twice");
            }
            paths[layer] = e.path();
        }
        if (gen == null) {
            throw new PredictorException(dir, "the bundle has no predictors: run `flashllm calibrate --model " + dir + "` first");
        }
        List<Path> files = new ArrayList<>();
        for (int l = 0; l < n; l++) {
            if (paths[l] == null) throw new PredictorException(dir.resolve("manifest.json"), "lists no predictor for layer " + l);
            files.add(dir.resolve(paths[l]));
        }
        PredictorSet set = openFiles(files, gen);
        for (LayerPredictor p : set.layers) {
            if (p.dim() != m.model().dim() || p.neurons() != m.model().ffnDim()) {
                set.close();
                throw new PredictorException(dir.resolve(paths[p.layer()]), "predictor is " + p.neurons() + "x" + p.dim()
                        + ", the model's FFN is " + m.model().ffnDim() + "x" + m.model().dim());
            }
        }
        return set;
    }

    /** Opens layer files given in layer order (tests, predictors kept outside a bundle). */
    public static PredictorSet openFiles(List<Path> files, String generation) {
        Arena arena = Arena.ofShared();
        List<LayerPredictor> layers = new ArrayList<>();
        try {
            for (int l = 0; l < files.size(); l++) {
                LayerPredictor p = PredictorFileReader.open(files.get(l), arena);
                if (p.layer() != l) throw new PredictorException(files.get(l), "holds layer " + p.layer() + ", expected layer " + l);
                if (!layers.isEmpty() && (p.dim() != layers.getFirst().dim() || p.neurons() != layers.getFirst().neurons())) {
                    throw new PredictorException(files.get(l), "shape " + p.neurons() + "x" + p.dim() + " differs from layer 0's");
                }
                layers.add(p);
            }
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        return new PredictorSet(arena, List.copyOf(layers), generation);
    }

    public String generation() {
        return generation;
    }

    public int layers() {
        return layers.size();
    }

    public LayerPredictor layer(int l) {
        return layers.get(l);
    }

    public List<LayerPredictor> all() {
        return layers;
    }

    /** Bytes of every predictor file (what they take in DRAM when stored as F32). */
    public long bytes() {
        long b = 0;
        for (LayerPredictor p : layers) b += p.fileBytes();
        return b;
    }

    /** Unmaps the files; the predictors must not be used afterwards. */
    @Override
    public void close() {
        arena.close();
    }
}
