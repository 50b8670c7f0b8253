package io.flashllm.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.Reasoning;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;
import io.flashllm.engine.testutil.TestVocab;
import io.flashllm.engine.testutil.TinyModels;
import io.flashllm.engine.testutil.TinySpec;
import io.flashllm.kernels.GgmlType;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Qwen3 GGUF as a user has it, through ModelLoader: architecture, thinking template, generation. */
class Qwen3ModelTest {
    @TempDir
    Path dir;

    @Test
    void loadsThinksAndGenerates() throws Exception {
        Map<String, Object> md = new HashMap<>(TestVocab.spm(320));
        md.put("tokenizer.chat_template", "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' }}"
                + "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
                + "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}"
                + "{%- endif %}{%- endif %}");
        Path file = new TinyModels(TinySpec.qwen3(GgmlType.Q8_0).withContext(256)).writeGguf(dir.resolve("tiny-qwen3.gguf"), md);
        try (InferenceModel model = ModelLoader.load(file, LoadOptions.defaults().withThreads(2).withMaxContext(256))) {
            assertEquals("qwen3", model.info().architecture());
            assertEquals(Reasoning.thinkTags(false), model.reasoning());
            List<ChatMessage> hi = List.of(new ChatMessage("user", "hello"));
            assertEquals("<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n", model.renderChat(hi));
            assertEquals(model.renderChat(hi) + "<think>\n\n</think>\n\n", model.renderChat(hi, false));
            int[] prompt = model.tokenize(model.renderChat(hi, false), true);
            try (Session s = model.openSession(256)) {
                GenerationResult r = s.generate(prompt, new SamplingParams(0f, 0, 1f, 0f, 1f, 64, 0f, 0f, 7, 8, List.of(), 0),
                        token -> true);
                assertTrue(r.tokens().length > 0, "greedy tokens from the random weights");
            }
        }
    }
}
