package io.flashllm.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.flashstore.ModelFileException;
import io.flashllm.flashstore.bundle.BundleModel;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.flashstore.hf.HfModelDir;
import io.flashllm.kernels.WeightTensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A model file or directory opened and mapped, with its config read: what {@link LanguageModel}
 * and the tokenizer are built from. Closing it unmaps the weights.
 *
 * @param ggufMetadata the GGUF metadata (tokenizer, chat template), or null for an HF directory
 * @param hfDir        the HF directory (tokenizer.json, config), or null for a GGUF file
 */
public record OpenedModelFile(Path path, ModelConfig config, TensorSource tensors, TensorNames names,
                              Map<String, Object> ggufMetadata, HfModelDir hfDir, AutoCloseable resources)
        implements AutoCloseable {

    /** Opens a GGUF file or a Hugging Face model directory (config.json + safetensors). */
    public static OpenedModelFile open(Path path) {
        if (Files.isDirectory(path)) {
            if (Files.isRegularFile(path.resolve(HfModelDir.CONFIG))) return openHf(path);
            throw new ModelFileException(path, "directory has no " + HfModelDir.CONFIG
                    + " (expected a Hugging Face model directory)");
        }
        if (!Files.isRegularFile(path)) throw new ModelFileException(path, "no such file or directory");
        String name = String.valueOf(path.getFileName());
        if (name.endsWith(".safetensors") || name.endsWith(".json")) {
            throw new ModelFileException(path, "a Hugging Face model is loaded from its directory (config.json, "
                    + "tokenizer.json and the safetensors together): pass " + path.toAbsolutePath().getParent());
        }
        return openGguf(path);
    }

    public static OpenedModelFile openGguf(Path path) {
        GgufFile gguf = GgufFile.open(path);
        try {
            return of(path, gguf, gguf);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    public static OpenedModelFile openHf(Path dir) {
        HfModelDir hf = HfModelDir.open(dir);
        try {
            return of(dir, hf, hf);
        } catch (RuntimeException e) {
            hf.close();
            throw e;
        }
    }

    /** A model over an already opened GGUF file (e.g. a bundle's resident part); {@code resources} close with it. */
    public static OpenedModelFile of(Path path, GgufFile gguf, AutoCloseable resources) {
        ModelConfig config = GgufConfigs.fromMetadata(gguf.metadata(), path);
        // Phi-3 stores q/k/v and gate/up fused: the loader sees them under the separate names.
        java.util.function.Function<String, WeightTensor> lookup = config.architecture() == Architecture.PHI3
                ? io.flashllm.flashstore.gguf.FusedTensors.split(gguf::tensor) : gguf::tensor;
        TensorSource tensors = new TensorSource() {
            @Override
            public WeightTensor tensor(String name) {
                return lookup.apply(name);
            }

            @Override
            public Path path() {
                return path;
            }
        };
        return new OpenedModelFile(path, config, tensors, TensorNames.gguf(config.architecture()), gguf.metadata(), null,
                resources);
    }

    /** A model over a bundle's resident part (GGUF or HF, as the bundle holds it); {@code resources} close with it. */
    public static OpenedModelFile of(Path path, BundleModel bundle, AutoCloseable resources) {
        return bundle.gguf() != null ? of(path, bundle.gguf(), resources) : of(path, bundle.hf(), resources);
    }

    /** A model over an already opened HF directory; {@code resources} close with it. */
    public static OpenedModelFile of(Path dir, HfModelDir hf, AutoCloseable resources) {
        JsonNode configJson = hf.config();
        ModelConfig config = HfConfigs.fromConfig(configJson, dir.resolve(HfModelDir.CONFIG));
        TensorNames names;
        if (config.architecture() == Architecture.OPT) {
            names = hf.contains("model.decoder.embed_tokens.weight") || !hf.contains("decoder.embed_tokens.weight")
                    ? TensorNames.hfOpt("model.decoder.") : TensorNames.hfOpt("decoder.");
        } else {
            boolean mixtral = config.architecture() == Architecture.LLAMA && config.experts().moe();
            names = mixtral ? TensorNames.hfMixtral() : TensorNames.hfLlama();
        }
        TensorSource tensors = new TensorSource() {
            @Override
            public WeightTensor tensor(String name) {
                return hf.tensor(name);
            }

            @Override
            public Path path() {
                return dir;
            }
        };
        return new OpenedModelFile(dir, config, tensors, names, null, hf, resources);
    }

    @Override
    public void close() {
        try {
            resources.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing " + path + " failed", e);
        }
    }
}
