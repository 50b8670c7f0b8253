package io.flashllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.chat.ChatTemplate;
import io.flashllm.engine.chat.ChatTemplates;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A chat prompt rendered for a vocabulary tokenizes its markers as single special tokens, and ends turns with EOG ids. */
class ChatPromptTokensTest {
    @Test
    void llama3MarkersAreSingleTokens() {
        BuiltVocab v = VocabBuilder.build(VocabBuilder.Style.LLAMA3, 500);
        Tokenizer tok = Tokenizers.fromGguf(v.ggufMetadata());
        ChatTemplate t = ChatTemplates.forModel(v.ggufMetadata());
        int[] ids = tok.encode(t.render(List.of(new ChatMessage("user", "Hi"))), true);
        int header = tok.tokenId("<|start_header_id|>");
        int eot = tok.tokenId("<|eot_id|>");
        assertEquals(v.bos(), ids[0]);
        assertEquals(header, ids[1]);
        assertEquals(2, Arrays.stream(ids).filter(id -> id == header).count());
        assertTrue(tok.isEog(eot));
        assertTrue(tok.isEog(tok.eos()));
        assertTrue(t.stopStrings().contains(tok.tokenText(eot)));
    }

    @Test
    void chatmlMarkersAreSingleTokens() {
        BuiltVocab v = VocabBuilder.build(VocabBuilder.Style.GPT2, 500);
        Tokenizer tok = Tokenizers.fromGguf(v.ggufMetadata());
        int[] ids = tok.encode(ChatTemplates.forModel(v.ggufMetadata()).render(List.of(new ChatMessage("user", "Hi"))), true);
        int start = tok.tokenId("<|im_start|>");
        assertEquals(start, ids[0]);
        assertTrue(tok.isEog(tok.tokenId("<|im_end|>")));
        // Without special parsing the same text is ordinary characters.
        int[] plain = tok.encode("<|im_start|>", false, false);
        assertTrue(Arrays.stream(plain).noneMatch(id -> id == start));
        assertEquals("<|im_start|>", tok.decode(plain));
    }

    /**
     * gpt-oss's vocabulary as synth builds it (its markers control tokens, as llama.cpp's converter types them): the chat markers are
     * single tokens; the channel and message markers show in decoded text, so the analysis can be told from the
     * answer; {@code <|end|>}, which closes the analysis, does not end generation where {@code <|return|>} and
     * {@code <|call|>} exist.
     */
    @Test
    void harmonyMarkers() {
        BuiltVocab v = VocabBuilder.build(VocabBuilder.Style.HARMONY, 500);
        Map<String, Object> md = v.ggufMetadata();
        assertEquals("gpt-4o", md.get("tokenizer.ggml.pre"));
        assertEquals(v.tokens().indexOf("<|return|>"), v.eos());
        Tokenizer tok = Tokenizers.fromGguf(md);
        ChatTemplate t = ChatTemplates.forModel(md);
        assertEquals("harmony", t.id());
        int[] ids = tok.encode(t.render(List.of(new ChatMessage("user", "Hi"))), true);
        int start = tok.tokenId("<|start|>");
        assertEquals(start, ids[0]);
        int last = ids.length - 1;
        while (ids[last] != start) last--;
        assertEquals("assistant", tok.decode(Arrays.copyOfRange(ids, last + 1, ids.length)), "the reply's opener");
        assertEquals(3, Arrays.stream(ids).filter(id -> id == start).count(), "system, user, the reply");
        int channel = tok.tokenId("<|channel|>");
        int message = tok.tokenId("<|message|>");
        int end = tok.tokenId("<|end|>");
        int ret = tok.tokenId("<|return|>");
        int[] reply = tok.encode("<|channel|>analysis<|message|>x<|end|><|start|>assistant<|channel|>final<|message|>y<|return|>",
                false, true);
        assertTrue(Arrays.stream(reply).anyMatch(id -> id == channel) && Arrays.stream(reply).anyMatch(id -> id == message));
        assertEquals("<|channel|>analysis<|message|>x<|start|>assistant<|channel|>final<|message|>y", tok.decode(reply),
                "the markers show, <|end|> and <|return|> do not");
        assertTrue(tok.isEog(ret));
        assertTrue(tok.isEog(tok.tokenId("<|call|>")));
        assertTrue(!tok.isEog(end), "<|end|> closes the analysis; the answer follows");
        assertTrue(tok.isControl(ret) && tok.isControl(end));
        assertTrue(!tok.isControl(channel) && !tok.isControl(message), "markers with text are not control tokens here");
    }
}
