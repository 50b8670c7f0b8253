package io.flashllm.predictor.bundle;

import io.flashllm.flashstore.bundle.BundleModel;
import io.flashllm.flashstore.bundle.Manifest;
import io.flashllm.flashstore.bundle.Part;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.reference.ScalarReference;
import io.flashllm.predictor.PredictorException;
import io.flashllm.predictor.trace.ActivationOracle;
import io.flashllm.predictor.trace.LayerMatrices;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The ground truth of a bundle: resident gate matrices when the bundle keeps them in DRAM (gated
 * ReLU models converted for gate-exact), otherwise the gate or OPT's fc1 rows gathered from the
 * FFN files one layer at a time, plus OPT's fc1 bias from the resident file.
 */
public final class BundleOracles {
    private BundleOracles() {}

    public static ActivationOracle open(BundleModel bundle) {
        return new ActivationOracle(matrices(bundle), bundle.activation());
    }

    public static LayerMatrices matrices(BundleModel b) {
        return matrices(b.dir(), b.manifest(), b.activation(), name -> {
            WeightTensor t = b.gguf() != null ? b.gguf().tensor(name) : (b.hf().contains(name) ? b.hf().tensor(name) : null);
            if (t == null) throw new PredictorException(b.dir(), "resident tensor '" + name + "' is missing");
            return t;
        });
    }

    /**
     * The same from a bundle's parts, for code that builds the selector while the bundle is being
     * opened.
     *
     * @param residentTensor looks a tensor up in the bundle's resident file by name
     */
    public static LayerMatrices matrices(Path dir, Manifest m, FfnActivation act, Function<String, WeightTensor> residentTensor) {
        if (!act.sparse()) {
            throw new PredictorException(dir, "the model's FFN activation is " + act.kind() + ", which is never exactly"
                    + " zero: a sparsity predictor needs a ReLU-family model (ReLU, FATReLU, or OPT)");
        }
        List<List<String>> names = m.layout().residentFfnTensors();
        int layers = m.model().layers();
        List<float[]> biases = new ArrayList<>();
        boolean anyBias = false;
        List<WeightTensor> gates = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            List<String> n = names.get(l);
            if (act.gated() && n.get(0) != null) gates.add(residentTensor.apply(n.get(0)));
            float[] bias = null;
            if (!act.gated() && n.get(1) != null) {
                bias = floats(residentTensor.apply(n.get(1)));
                anyBias = true;
            }
            biases.add(bias);
        }
        if (act.gated() && gates.size() == layers) return LayerMatrices.resident(gates, null);
        List<Path> files = new ArrayList<>();
        for (String f : m.layout().layerFiles()) files.add(dir.resolve(f));
        return new FlashRowMatrices(files, act.gated() ? Part.GATE : Part.UP, anyBias ? biases : null, m.model().ffnDim(),
                m.model().dim());
    }

    private static float[] floats(WeightTensor t) {
        float[] v = new float[Math.toIntExact(t.elements())];
        ScalarReference.dequantize(t.type(), t.data(), 0, v, 0, v.length);
        return v;
    }
}
