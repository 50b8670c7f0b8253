package io.flashllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class StreamingDecoderTest {

    @ParameterizedTest
    @EnumSource(VocabBuilder.Style.class)
    void neverEmitsHalfACharacter(VocabBuilder.Style style) {
        // A small vocabulary makes most non-ASCII text byte tokens, the hard case.
        Tokenizer tok = Tokenizers.fromGguf(VocabBuilder.build(style, 300).ggufMetadata());
        int split = 0;
        for (String text : TextSamples.random(11, 500)) {
            int[] ids = tok.encode(text, false);
            StreamingDecoder sd = new StreamingDecoder(tok);
            StringBuilder out = new StringBuilder();
            ByteArrayOutputStream raw = new ByteArrayOutputStream();
            for (int id : ids) {
                raw.writeBytes(tok.tokenBytes(id));
                String piece = sd.accept(id);
                assertWholeCharacters(piece, text);
                if (sd.pendingBytes() > 0) split++;
                out.append(piece);
            }
            assertEquals("", sd.flush());
            assertEquals(raw.toString(StandardCharsets.UTF_8), out.toString(), text);
        }
        assertTrue(split > 100, "the samples must exercise characters split across tokens, got " + split);
    }

    private static void assertWholeCharacters(String piece, String source) {
        assertFalse(piece.indexOf('\uFFFD') >= 0 && source.indexOf('\uFFFD') < 0, "replacement char in [" + piece + "]");
        for (int i = 0; i < piece.length(); i++) {
            char c = piece.charAt(i);
            if (Character.isHighSurrogate(c)) {
                assertTrue(i + 1 < piece.length() && Character.isLowSurrogate(piece.charAt(i + 1)), "cut surrogate pair");
                i++;
            } else {
                assertFalse(Character.isLowSurrogate(c), "stray low surrogate");
            }
        }
    }

    @Test
    void holdsBytesUntilTheCharacterIsComplete() {
        Tokenizer tok = Tokenizers.fromGguf(VocabBuilder.build(VocabBuilder.Style.SPM, 300).ggufMetadata());
        StreamingDecoder sd = new StreamingDecoder(tok);
        // 😀 = F0 9F 98 80, spelled with four byte tokens.
        int[] bytes = {0xF0, 0x9F, 0x98, 0x80};
        for (int i = 0; i < 3; i++) {
            assertEquals("", sd.accept(tok.tokenId(String.format("<0x%02X>", bytes[i]))));
            assertEquals(i + 1, sd.pendingBytes());
        }
        assertEquals("\ud83d\ude00", sd.accept(tok.tokenId("<0x80>")));
        assertEquals(0, sd.pendingBytes());
    }

    @Test
    void invalidBytesComeOutAsReplacementAtOnce() {
        Tokenizer tok = Tokenizers.fromGguf(VocabBuilder.build(VocabBuilder.Style.SPM, 300).ggufMetadata());
        StreamingDecoder sd = new StreamingDecoder(tok);
        // 0xFF never starts a character; E0 80 is an overlong start that can never complete.
        assertEquals("\uFFFD", sd.accept(tok.tokenId("<0xFF>")));
        assertEquals("", sd.accept(tok.tokenId("<0xE0>")));
        assertEquals("\uFFFD\uFFFD", sd.accept(tok.tokenId("<0x80>")));
        // A character cut off at the end of generation becomes one replacement on flush.
        assertEquals("", sd.accept(tok.tokenId("<0xE2>")));
        assertEquals("\uFFFD", sd.flush());
        assertEquals("", sd.flush());
        // Padding ids beyond the vocabulary show nothing.
        assertEquals("", sd.accept(tok.vocabSize()));
    }

    @Test
    void canDropTheLeadingWordMarkerOfAChatAnswer() {
        Tokenizer tok = Tokenizers.fromGguf(VocabBuilder.build(VocabBuilder.Style.SPM, 1000).ggufMetadata());
        int[] ids = tok.encode("The river", false);
        StreamingDecoder keep = new StreamingDecoder(tok);
        StreamingDecoder strip = new StreamingDecoder(tok, true);
        StringBuilder a = new StringBuilder(), b = new StringBuilder();
        for (int id : ids) {
            a.append(keep.accept(id));
            b.append(strip.accept(id));
        }
        assertEquals(" The river", a.toString());
        assertEquals("The river", b.toString());
    }

    @Test
    void completePrefixRules() {
        byte[] b = {(byte) 0xC3, (byte) 0xA9, (byte) 0xE2, (byte) 0x82};
        assertEquals(2, StreamingDecoder.completePrefix(b, 4));
        assertEquals(2, StreamingDecoder.completePrefix(b, 3));
        assertEquals(2, StreamingDecoder.completePrefix(b, 2));
        assertEquals(0, StreamingDecoder.completePrefix(b, 1));
        byte[] surrogate = {(byte) 0xED, (byte) 0xA0};
        // ED A0.. would encode a surrogate, which UTF-8 forbids: not worth waiting for.
        assertEquals(2, StreamingDecoder.completePrefix(surrogate, 2));
    }
}
