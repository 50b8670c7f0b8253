package io.flashllm.engine.model;

import io.flashllm.engine.testutil.TinyModels;
import io.flashllm.engine.testutil.TinySpec;
import io.flashllm.flashstore.ModelFileException;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightLoaderTest {
    @TempDir
    Path dir;

    /** Loads the file's weights with {@code edit} applied to every tensor lookup (return null to hide one). */
    WeightLoader.Loaded load(TinySpec spec, UnaryOperator<WeightTensor> edit) throws Exception {
        Path file = new TinyModels(spec).writeGguf(dir.resolve("m.gguf"), Map.of());
        GgufFile gguf = GgufFile.open(file);
        try {
            ModelConfig config = GgufConfigs.fromMetadata(gguf.metadata(), file);
            TensorSource source = new TensorSource() {
                @Override
                public WeightTensor tensor(String name) {
                    WeightTensor t = gguf.tensor(name);
                    return t == null ? null : edit.apply(t);
                }

                @Override
                public Path path() {
                    return file;
                }
            };
            return WeightLoader.load(config, source, TensorNames.gguf());
        } finally {
            gguf.close();
        }
    }

    @Test
    void tiedAndUntiedOutputs() throws Exception {
        WeightLoader.Loaded tied = load(TinySpec.qwen2(GgmlType.F32), t -> t);
        assertTrue(tied.weights().tiedEmbeddings());
        assertSame(tied.weights().tokenEmbedding(), tied.weights().output());
        assertTrue(tied.weights().layers().get(0).bq() != null, "qwen2 has q/k/v biases");
        assertNull(tied.weights().layers().get(0).bo(), "and no output bias");
        WeightLoader.Loaded untied = load(TinySpec.llama(GgmlType.F32), t -> t);
        assertNotSame(untied.weights().tokenEmbedding(), untied.weights().output());
        assertEquals(320, untied.config().vocabSize());
        TinySpec s = TinySpec.llama(GgmlType.F32);
        long expected = 2L * 320 * 64 + 64 + s.layers() * (2L * 64 + 64L * 64 * 2 + 2L * 32 * 64 + 3L * 64 * 128);
        assertEquals(expected, untied.weights().parameterCount());
    }

    @Test
    void typesCoverEveryTensor() throws Exception {
        assertEquals(EnumSet.of(GgmlType.F32), load(TinySpec.llama(GgmlType.F32), t -> t).weights().types());
        // Matrices in Q8_0, norms (and qwen2's biases) in F32.
        assertEquals(EnumSet.of(GgmlType.F32, GgmlType.Q8_0),
                load(TinySpec.qwen2(GgmlType.Q8_0), t -> t).weights().types());
        // One layer tensor of another type shows up.
        WeightLoader.Loaded one = load(TinySpec.llama(GgmlType.F32), t -> t.name().equals("blk.1.attn_v.weight")
                ? new WeightTensor(t.name(), GgmlType.F16, t.shape(), t.data()) : t);
        assertEquals(EnumSet.of(GgmlType.F32, GgmlType.F16), one.weights().types());
    }

    @Test
    void missingTensorIsNamed() {
        ModelFileException e = assertThrows(ModelFileException.class, () -> load(TinySpec.llama(GgmlType.F32),
                t -> t.name().equals("blk.1.ffn_up.weight") ? null : t));
        assertTrue(e.getMessage().contains("blk.1.ffn_up.weight") && e.getMessage().contains("missing"), e.getMessage());
        assertTrue(e.getMessage().contains("m.gguf"), e.getMessage());
    }

    @Test
    void qwen3NeedsItsHeadNorms() throws Exception {
        WeightLoader.Loaded q3 = load(TinySpec.qwen3(GgmlType.F32), t -> t);
        LayerWeights l0 = q3.weights().layers().get(0);
        assertEquals(32, l0.qNorm().elements());
        assertEquals(32, l0.kNorm().elements());
        assertEquals(128, q3.config().qDim(), "4 heads of 32 on a 64-wide stream");
        assertNull(load(TinySpec.qwen2(GgmlType.F32), t -> t).weights().layers().get(0).qNorm());
        ModelFileException e = assertThrows(ModelFileException.class, () -> load(TinySpec.qwen3(GgmlType.F32),
                t -> t.name().equals("blk.1.attn_k_norm.weight") ? null : t));
        assertTrue(e.getMessage().contains("blk.1.attn_k_norm.weight") && e.getMessage().contains("missing"),
                e.getMessage());
        e = assertThrows(ModelFileException.class, () -> load(TinySpec.qwen3(GgmlType.F32),
                t -> t.name().equals("blk.0.attn_q_norm.weight")
                        ? new WeightTensor(t.name(), t.type(), new long[] {16}, t.data()) : t));
        assertTrue(e.getMessage().contains("blk.0.attn_q_norm.weight") && e.getMessage().contains("vector of 32"),
                e.getMessage());
    }

    @Test
    void misshapenTensorIsNamed() {
        ModelFileException e = assertThrows(ModelFileException.class, () -> load(TinySpec.llama(GgmlType.F32),
                t -> t.name().equals("blk.0.attn_k.weight")
                        ? new WeightTensor(t.name(), t.type(), new long[] {64, 16}, t.data()) : t));
        assertTrue(e.getMessage().contains("blk.0.attn_k.weight") && e.getMessage().contains("expected 32 rows of 64"),
                e.getMessage());
        e = assertThrows(ModelFileException.class, () -> load(TinySpec.llama(GgmlType.F32),
                t -> t.name().equals("output_norm.weight")
                        ? new WeightTensor(t.name(), t.type(), new long[] {32}, t.data()) : t));
        assertTrue(e.getMessage().contains("output_norm.weight"), e.getMessage());
    }

    @Test
    void ffnMatricesOptionalWhenServedElsewhere() throws Exception {
        Path file = new TinyModels(TinySpec.reluLlama(GgmlType.F32, "relu", 0f)).writeGguf(dir.resolve("r.gguf"), Map.of());
        try (GgufFile gguf = GgufFile.open(file)) {
            ModelConfig config = GgufConfigs.fromMetadata(gguf.metadata(), file);
            TensorSource noFfn = new TensorSource() {
                @Override
                public WeightTensor tensor(String name) {
                    return name.contains("ffn_gate") || name.contains("ffn_up") || name.contains("ffn_down")
                            ? null : gguf.tensor(name);
                }

                @Override
                public Path path() {
                    return file;
                }
            };
            assertThrows(ModelFileException.class, () -> WeightLoader.load(config, noFfn, TensorNames.gguf()));
            WeightLoader.Loaded loaded = WeightLoader.load(config, noFfn, TensorNames.gguf(), false);
            assertTrue(loaded.weights().ffn().isEmpty());
        }
    }
}
