package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.writer.GgufValueType;
import io.flashllm.flashstore.writer.GgufWriter;
import io.flashllm.flashstore.writer.Quantizer;
import io.flashllm.kernels.GgmlType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Writes tiny synthetic Llama-shaped (gated) or OPT-shaped (ungated, biased) GGUF models with the
 * cli module's GgufWriter, independent of the bundle code under test.
 */
final class TinyModel {
    final int layers;
    final int dim;
    final int ffn;
    final GgmlType ffnType;
    final boolean gated;
    final long seed;
    /** ffn_down's type per layer; null = {@link #ffnType} everywhere. */
    final GgmlType[] downTypes;

    TinyModel(int layers, int dim, int ffn, GgmlType ffnType, boolean gated, long seed) {
        this(layers, dim, ffn, ffnType, gated, seed, null);
    }

    private TinyModel(int layers, int dim, int ffn, GgmlType ffnType, boolean gated, long seed, GgmlType[] downTypes) {
        this.layers = layers;
        this.dim = dim;
        this.ffn = ffn;
        this.ffnType = ffnType;
        this.gated = gated;
        this.seed = seed;
        this.downTypes = downTypes;
    }

    /** The same model with layer l's ffn_down in {@code types[l]}, as llama.cpp's K mixes vary it. */
    TinyModel withDownTypes(GgmlType... types) {
        if (types.length != layers) throw new IllegalArgumentException("one down type per layer");
        return new TinyModel(layers, dim, ffn, ffnType, gated, seed, types.clone());
    }

    GgmlType downType(int layer) {
        return downTypes == null ? ffnType : downTypes[layer];
    }

    static float[] gaussian(Random r, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian() * scale;
        return v;
    }

    Path write(Path file) throws IOException {
        Random r = new Random(seed);
        int vocab = 40;
        GgufWriter w = new GgufWriter(file);
        w.putString("general.architecture", gated ? "llama" : "opt");
        w.putString("general.name", "tiny-" + ffnType);
        w.putU32((gated ? "llama" : "opt") + ".block_count", layers);
        w.putU32((gated ? "llama" : "opt") + ".embedding_length", dim);
        w.putU32((gated ? "llama" : "opt") + ".feed_forward_length", ffn);
        w.putF32((gated ? "llama" : "opt") + ".attention.layer_norm_rms_epsilon", 1e-5f);
        w.putString("tokenizer.ggml.model", "llama");
        w.putArray("tokenizer.ggml.tokens", GgufValueType.STRING, java.util.stream.IntStream.range(0, vocab).mapToObj(i -> "t" + i).toList());
        w.putArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, java.util.stream.IntStream.range(0, vocab).mapToObj(i -> (float) -i).toList());
        w.putArray("tokenizer.ggml.token_type", GgufValueType.INT32, java.util.stream.IntStream.range(0, vocab).mapToObj(i -> 1).toList());
        w.putU32("tokenizer.ggml.bos_token_id", 1);
        add(w, "token_embd.weight", GgmlType.F32, new long[] {dim, vocab}, gaussian(r, dim * vocab, 0.5f));
        add(w, "output_norm.weight", GgmlType.F32, new long[] {dim}, gaussian(r, dim, 1f));
        for (int l = 0; l < layers; l++) {
            add(w, "blk." + l + ".attn_norm.weight", GgmlType.F32, new long[] {dim}, gaussian(r, dim, 1f));
            add(w, "blk." + l + ".attn_q.weight", GgmlType.F16, new long[] {dim, dim}, gaussian(r, dim * dim, 0.2f));
            add(w, "blk." + l + ".ffn_norm.weight", GgmlType.F32, new long[] {dim}, gaussian(r, dim, 1f));
            if (gated) add(w, "blk." + l + ".ffn_gate.weight", ffnType, new long[] {dim, ffn}, gaussian(r, dim * ffn, 0.3f));
            add(w, "blk." + l + ".ffn_up.weight", ffnType, new long[] {dim, ffn}, gaussian(r, dim * ffn, 0.3f));
            add(w, "blk." + l + ".ffn_down.weight", downType(l), new long[] {ffn, dim}, gaussian(r, dim * ffn, 0.3f));
            if (!gated) {
                add(w, "blk." + l + ".ffn_up.bias", GgmlType.F32, new long[] {ffn}, gaussian(r, ffn, 0.3f));
                add(w, "blk." + l + ".ffn_down.bias", GgmlType.F32, new long[] {dim}, gaussian(r, dim, 0.3f));
            }
        }
        w.write();
        return file;
    }

    private static void add(GgufWriter w, String name, GgmlType type, long[] shape, float[] values) {
        byte[] bytes = Quantizer.quantize(type, values);
        w.addTensor(name, type, shape, out -> out.put(bytes));
    }

    static List<GgmlType> ffnTypes() {
        return List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1,
                GgmlType.Q5_0, GgmlType.Q5_1);
    }

    /** K-quant blocks hold 256 elements, so these need dim and ffn multiples of 256. */
    static List<GgmlType> kTypes() {
        return List.of(GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);
    }
}
