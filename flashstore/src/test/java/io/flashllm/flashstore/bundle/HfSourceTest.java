package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.hf.HfModelDir;
import io.flashllm.flashstore.writer.Quantizer;
import io.flashllm.flashstore.writer.SafetensorsWriter;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.reference.ScalarReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** An HF directory converts into a bundle that opens as an HF directory, FFN from the bundles. */
class HfSourceTest {
    @TempDir
    Path tmp;

    @Test
    void hfLlamaReluRoundTrip() throws IOException {
        int dim = 64;
        int ffn = 96;
        Path src = Files.createDirectory(tmp.resolve("hf"));
        Random r = new Random(3);
        SafetensorsWriter w = new SafetensorsWriter();
        add(w, "model.embed_tokens.weight", new long[] {10, dim}, TinyModel.gaussian(r, 10 * dim, 1f));
        add(w, "model.norm.weight", new long[] {dim}, TinyModel.gaussian(r, dim, 1f));
        for (int l = 0; l < 2; l++) {
            add(w, "model.layers." + l + ".mlp.gate_proj.weight", new long[] {ffn, dim}, TinyModel.gaussian(r, dim * ffn, 0.3f));
            add(w, "model.layers." + l + ".mlp.up_proj.weight", new long[] {ffn, dim}, TinyModel.gaussian(r, dim * ffn, 0.3f));
            add(w, "model.layers." + l + ".mlp.down_proj.weight", new long[] {dim, ffn}, TinyModel.gaussian(r, dim * ffn, 0.3f));
        }
        w.writeFile(src.resolve("model.safetensors"));
        Files.writeString(src.resolve("config.json"), "{\"model_type\":\"llama\",\"hidden_act\":\"relu\",\"hidden_size\":64}");
        Files.writeString(src.resolve("tokenizer.json"), "{\"version\":\"1.0\",\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}}");

        Path out = tmp.resolve("b");
        ConvertReport rep = Converter.convert(src, out, ConvertOptions.defaults().withMinReadBytes(4096));
        assertTrue(rep.gateResident(), "hidden_act relu + gate → gates resident for gate-exact");
        Manifest m = Manifest.read(out);
        assertEquals("hf", m.source().kind());
        assertEquals("GATED_RELU", m.model().activation());
        assertEquals("tokenizer.json", m.tokenizer().file());
        assertTrue(Verifier.verify(out).ok());

        try (BundleModel budgeted = BundleModel.open(out, BundleOpenOptions.defaults().withOverhead(0)
                .withMemoryBudget(64L << 20, 0))) {
            // Under a budget the safetensors resident part is paged per tensor, as a GGUF one is.
            assertTrue(budgeted.paging().advised());
            assertEquals(List.of(), budgeted.paging().leftOnFlash(), "tied embeddings are the head: held");
            List<ResidentPaging.Mapped> tensors = ResidentPaging.tensors(out, null, budgeted.hf());
            assertEquals(budgeted.hf().tensorNames().size(), tensors.size());
            ResidentOffsets.assertEachTensorAtItsOffset(tensors);
            long all = 0;
            for (ResidentPaging.Mapped t : tensors) all += t.tensor().data().byteSize();
            assertEquals(all, budgeted.paging().readAheadBytes());
        }
        try (BundleModel bm = BundleModel.open(out, BundleOpenOptions.defaults()); HfModelDir orig = HfModelDir.open(src)) {
            assertNotNull(bm.hf());
            assertNull(bm.gguf());
            assertEquals("gate-exact", bm.feedForward().selector().name());
            assertFalse(bm.hf().contains("model.layers.0.mlp.up_proj.weight"), "up lives only in the bundles");
            assertEquals(-1, orig.tensor("model.norm.weight").data().mismatch(bm.hf().tensor("model.norm.weight").data()));
            assertEquals(Files.readString(src.resolve("tokenizer.json")), Files.readString(out.resolve("tokenizer.json")));
            FfnActivation act = new FfnActivation(FfnActivation.Kind.GATED_RELU, 0);
            float[] o = new float[dim];
            for (int l = 0; l < 2; l++) {
                float[] x = TinyModel.gaussian(r, dim, 1f);
                bm.feedForward().forward(l, x, o);
                WeightTensor gate = orig.tensor("model.layers." + l + ".mlp.gate_proj.weight");
                WeightTensor up = orig.tensor("model.layers." + l + ".mlp.up_proj.weight");
                WeightTensor down = orig.tensor("model.layers." + l + ".mlp.down_proj.weight");
                double[] a = new double[ffn];
                for (int j = 0; j < ffn; j++) {
                    a[j] = act.apply((float) dot(ScalarReference.dequantizeRow(gate, j), x)) * dot(ScalarReference.dequantizeRow(up, j), x);
                }
                for (int i = 0; i < dim; i++) {
                    float[] row = ScalarReference.dequantizeRow(down, i);
                    double want = 0;
                    double mag = 0;
                    for (int j = 0; j < ffn; j++) {
                        want += row[j] * a[j];
                        mag += Math.abs(row[j] * a[j]);
                    }
                    assertEquals(want, o[i], 1e-4 * mag + 1e-5, "layer " + l + " out " + i);
                }
            }
        }
    }

    private static double dot(float[] w, float[] x) {
        double s = 0;
        for (int i = 0; i < w.length; i++) s += (double) w[i] * x[i];
        return s;
    }

    private static void add(SafetensorsWriter w, String name, long[] shape, float[] v) {
        byte[] b = Quantizer.quantize(GgmlType.BF16, v);
        w.addTensor(name, GgmlType.BF16, shape, out -> out.put(b));
    }
}
