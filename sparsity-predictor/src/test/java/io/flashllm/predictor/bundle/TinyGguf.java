package io.flashllm.predictor.bundle;

import io.flashllm.flashstore.writer.GgufValueType;
import io.flashllm.flashstore.writer.GgufWriter;
import io.flashllm.flashstore.writer.Quantizer;
import io.flashllm.kernels.GgmlType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Tiny Llama-shaped (gated) or OPT-shaped (ungated, biased) GGUF models written with the GGUF
 * writer, just enough for the bundle converter: FFN matrices plus a few resident tensors.
 */
final class TinyGguf {
    private TinyGguf() {}

    static Path write(Path file, boolean gated, int layers, int dim, int ffn, GgmlType ffnType, long seed) throws IOException {
        Random r = new Random(seed);
        int vocab = 16;
        String arch = gated ? "llama" : "opt";
        GgufWriter w = new GgufWriter(file);
        w.putString("general.architecture", arch);
        w.putString("general.name", "tiny");
        w.putU32(arch + ".block_count", layers);
        w.putU32(arch + ".embedding_length", dim);
        w.putU32(arch + ".feed_forward_length", ffn);
        w.putF32(arch + ".attention.layer_norm_rms_epsilon", 1e-5f);
        w.putString("tokenizer.ggml.model", "llama");
        w.putArray("tokenizer.ggml.tokens", GgufValueType.STRING, IntStream.range(0, vocab).mapToObj(i -> "t" + i).toList());
        w.putArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, IntStream.range(0, vocab).mapToObj(i -> (float) -i).toList());
        w.putArray("tokenizer.ggml.token_type", GgufValueType.INT32, IntStream.range(0, vocab).mapToObj(i -> 1).toList());
        add(w, "token_embd.weight", GgmlType.F32, new long[] {dim, vocab}, gaussian(r, dim * vocab, 0.5f));
        add(w, "output_norm.weight", GgmlType.F32, new long[] {dim}, gaussian(r, dim, 1f));
        for (int l = 0; l < layers; l++) {
            add(w, "blk." + l + ".attn_norm.weight", GgmlType.F32, new long[] {dim}, gaussian(r, dim, 1f));
            add(w, "blk." + l + ".ffn_norm.weight", GgmlType.F32, new long[] {dim}, gaussian(r, dim, 1f));
            if (gated) add(w, "blk." + l + ".ffn_gate.weight", ffnType, new long[] {dim, ffn}, gaussian(r, dim * ffn, 0.3f));
            add(w, "blk." + l + ".ffn_up.weight", ffnType, new long[] {dim, ffn}, gaussian(r, dim * ffn, 0.3f));
            add(w, "blk." + l + ".ffn_down.weight", ffnType, new long[] {ffn, dim}, gaussian(r, dim * ffn, 0.3f));
            if (!gated) {
                add(w, "blk." + l + ".ffn_up.bias", GgmlType.F32, new long[] {ffn}, gaussian(r, ffn, 0.3f));
                add(w, "blk." + l + ".ffn_down.bias", GgmlType.F32, new long[] {dim}, gaussian(r, dim, 0.3f));
            }
        }
        w.write();
        return file;
    }

    static float[] gaussian(Random r, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian() * scale;
        return v;
    }

    private static void add(GgufWriter w, String name, GgmlType type, long[] shape, float[] values) {
        byte[] bytes = Quantizer.quantize(type, values);
        w.addTensor(name, type, shape, out -> out.put(bytes));
    }
}
