package io.flashllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.chat.ChatTemplate;
import io.flashllm.engine.chat.ChatTemplates;
import java.util.Arrays;
import java.util.List;
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
}
