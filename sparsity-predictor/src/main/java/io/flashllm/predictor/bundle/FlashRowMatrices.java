package io.flashllm.predictor.bundle;

import io.flashllm.flashstore.bundle.BundleLayout;
import io.flashllm.flashstore.bundle.FfnFile;
import io.flashllm.flashstore.bundle.Part;
import io.flashllm.flashstore.bundle.PartSpec;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.predictor.PredictorException;
import io.flashllm.predictor.trace.LayerMatrices;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * One part (gate or up) of every neuron of a layer, gathered from the layer's FFN bundle file into
 * a matrix in DRAM when a layer is acquired and freed when it is released: what calibration needs
 * for OPT (whose fc1 rows live only on flash) without holding more than one layer. Each group read
 * is checked against the file's CRC table.
 */
public final class FlashRowMatrices implements LayerMatrices {
    private final List<Path> files;
    private final Part part;
    private final List<float[]> biases;
    private final int rows;
    private final int cols;
    private int loadedLayer = -1;
    private Arena arena;
    private WeightTensor loaded;

    /**
     * @param files  the layers' FFN files in order
     * @param part   {@link Part#GATE} or {@link Part#UP}
     * @param biases per layer bias or null
     */
    public FlashRowMatrices(List<Path> files, Part part, List<float[]> biases, int rows, int cols) {
        this.files = List.copyOf(files);
        this.part = part;
        this.biases = biases;
        this.rows = rows;
        this.cols = cols;
    }

    @Override
    public int layers() {
        return files.size();
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    /** Loads the layer (keeping it until another layer is acquired, so repeated use reads once). */
    @Override
    public synchronized WeightTensor acquire(int layer) {
        if (layer == loadedLayer) return loaded;
        free();
        Path path = files.get(layer);
        try (FfnFile f = FfnFile.open(path, false); FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            BundleLayout l = f.layout();
            PartSpec spec = l.spec(part);
            if (spec == null) throw new PredictorException(path, "the FFN file holds no " + part + " rows");
            if (l.neurons() != rows || spec.elements() != cols) {
                throw new PredictorException(path, part + " rows are " + l.neurons() + "x" + spec.elements() + ", expected " + rows + "x" + cols);
            }
            Arena a = Arena.ofShared();
            long rowBytes = spec.rowBytes();
            MemorySegment data = a.allocate(rowBytes * rows, 64);
            MemorySegment group = a.allocate(l.groupBytes(), 4096);
            long partOff = l.partOffset(part);
            for (int g = 0; g < l.groupCount(); g++) {
                var bb = group.asByteBuffer();
                long pos = f.groupOffset(g);
                while (bb.hasRemaining()) {
                    int n = ch.read(bb, pos);
                    if (n < 0) throw new PredictorException(path, "truncated inside neuron group " + g);
                    pos += n;
                }
                f.checkGroup(g, group, 0);
                int last = Math.min(rows, (g + 1) * l.neuronsPerGroup());
                for (int j = g * l.neuronsPerGroup(); j < last; j++) {
                    MemorySegment.copy(group, l.offsetInGroup(j) + partOff, data, j * rowBytes, rowBytes);
                }
            }
            arena = a;
            loaded = new WeightTensor(path.getFileName() + ":" + part.name().toLowerCase(), spec.type(), new long[]{cols, rows}, data);
            loadedLayer = layer;
            return loaded;
        } catch (IOException e) {
            throw new PredictorException(path, "cannot be read: " + e.getMessage(), e);
        }
    }

    @Override
    public float[] bias(int layer) {
        return biases == null ? null : biases.get(layer);
    }

    private void free() {
        if (arena != null) arena.close();
        arena = null;
        loaded = null;
        loadedLayer = -1;
    }

    @Override
    public synchronized void close() {
        free();
    }
}
