package io.flashllm.engine;

import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.chat.ChatTemplate;
import io.flashllm.engine.chat.ChatTemplates;
import io.flashllm.engine.generate.LoadedModel;
import io.flashllm.engine.model.FeedForwardFactory;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.model.ModelConfig;
import io.flashllm.engine.model.OpenedModelFile;
import io.flashllm.engine.model.WeightLoader;
import io.flashllm.engine.tokenizer.Tokenizer;
import io.flashllm.engine.tokenizer.TokenizerException;
import io.flashllm.engine.tokenizer.Tokenizers;
import io.flashllm.flashstore.ModelFileException;
import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.Parallel;

import java.nio.file.Path;

/**
 * Loads a model for inference from a GGUF file or a Hugging Face model directory. Weights stay in
 * the mapped files.
 *
 * <p>Flash bundles plug in at {@link #assemble}: a bundle directory opens its resident tensors as an
 * {@link OpenedModelFile} and passes a {@link FeedForwardFactory} that builds the flash-backed FFN.
 */
public final class ModelLoader {
    private ModelLoader() {}

    /**
     * Loads a GGUF file or a Hugging Face model directory with its tokenizer and chat format. Every
     * fault in the files is a {@link ModelFileException} that names the file.
     */
    public static InferenceModel load(Path path, LoadOptions options) {
        OpenedModelFile file = OpenedModelFile.open(path);
        try {
            Tokenizer tokenizer;
            ChatTemplate chat;
            try {
                if (file.ggufMetadata() != null) {
                    tokenizer = Tokenizers.fromGguf(file.ggufMetadata());
                    chat = ChatTemplates.forModel(file.ggufMetadata());
                } else {
                    tokenizer = Tokenizers.fromHfDir(file.path(), file.hfDir().config());
                    chat = ChatTemplates.forHfDir(file.path());
                }
            } catch (TokenizerException e) {
                throw new ModelFileException(path, "tokenizer: " + e.getMessage(), e);
            }
            LanguageModel model = assemble(file, options, FeedForwardFactory.DENSE);
            return new LoadedModel(modelId(path), model, tokenizer, chat);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** The name a server lists: the file name without .gguf, or the directory name. */
    static String modelId(Path path) {
        Path name = path.toAbsolutePath().normalize().getFileName();
        String s = name == null ? path.toString() : name.toString();
        return s.toLowerCase(java.util.Locale.ROOT).endsWith(".gguf") ? s.substring(0, s.length() - 5) : s;
    }

    /** The transformer alone (no tokenizer): for tests, calibration traces and benchmarks. */
    public static LanguageModel loadLanguageModel(Path path, LoadOptions options) {
        OpenedModelFile file = OpenedModelFile.open(path);
        try {
            return assemble(file, options, FeedForwardFactory.DENSE);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * Resolves the weights of an opened file, applies the options (context cap, activation
     * override), builds the FFN and the thread pool. The model owns {@code file} from here on and
     * closes it with itself.
     */
    public static LanguageModel assemble(OpenedModelFile file, LoadOptions options, FeedForwardFactory ffnFactory) {
        ModelConfig config = applyOptions(file.config(), options, file.path());
        WeightLoader.Loaded loaded = WeightLoader.load(config, file.tensors(), file.names());
        Parallel parallel = Parallel.create(options.threads());
        try {
            FeedForward ffn = ffnFactory.create(loaded.config(), loaded.weights(), parallel);
            return new LanguageModel(loaded.config(), loaded.weights(), ffn, parallel, options.kvCacheType(), file);
        } catch (RuntimeException e) {
            parallel.close();
            throw e;
        }
    }

    static ModelConfig applyOptions(ModelConfig config, LoadOptions options, Path path) {
        if (options.maxContext() > 0 && options.maxContext() < config.contextLength()) {
            config = config.withContextLength(options.maxContext());
        }
        FfnActivation act = config.activation();
        if (options.activation() != null) {
            if (!act.gated()) {
                throw new ModelFileException(path, "the FFN activation of " + config.architecture()
                        + " cannot be changed (it has no gate)");
            }
            act = new FfnActivation(switch (options.activation()) {
                case "silu" -> FfnActivation.Kind.GATED_SILU;
                case "relu" -> FfnActivation.Kind.GATED_RELU;
                default -> FfnActivation.Kind.GATED_FATRELU;
            }, options.activation().equals("fatrelu") ? act.threshold() : 0f);
        }
        if (options.fatreluThreshold() != null) {
            if (act.kind() != FfnActivation.Kind.GATED_RELU && act.kind() != FfnActivation.Kind.GATED_FATRELU) {
                throw new ModelFileException(path, "a FATReLU threshold needs a ReLU-gated model, this one is "
                        + act.kind());
            }
            act = new FfnActivation(FfnActivation.Kind.GATED_FATRELU, options.fatreluThreshold());
        }
        return config.withActivation(act);
    }
}
