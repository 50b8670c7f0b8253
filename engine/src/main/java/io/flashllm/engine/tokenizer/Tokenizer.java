package io.flashllm.engine.tokenizer;

/**
 * Text to token ids and back, for one model vocabulary. Implementations are immutable and thread-safe.
 *
 * <p>Ids are in {@code [0, vocabSize())}. Special (control) tokens such as BOS/EOS contribute no text when
 * decoding; user-defined tokens decode to their text.
 */
public interface Tokenizer extends AutoCloseable {

    /**
     * Token ids of {@code text}.
     *
     * @param addSpecial   add BOS (and EOS where the vocabulary asks for it) the way llama.cpp does
     * @param parseSpecial recognise the text of control tokens (e.g. {@code <|im_start|>}) as those tokens;
     *                     off, such text is tokenized as ordinary characters
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /** {@link #encode(String, boolean, boolean)} with special-token text recognised (what a chat prompt needs). */
    default int[] encode(String text, boolean addSpecial) {
        return encode(text, addSpecial, true);
    }

    /**
     * The text of a whole sequence: control tokens are skipped, and for vocabularies that prefix the text with a
     * space when encoding (SentencePiece), that one leading space is removed again, so
     * {@code decode(encode(s, true)) == s} for text without special-token markers.
     */
    String decode(int[] ids);

    /**
     * The raw UTF-8 bytes token {@code id} adds to generated text (no leading-space stripping); empty for control
     * tokens. A byte-fallback token yields one byte, which may be part of a multi-byte character: use
     * {@link StreamingDecoder} to turn a stream of tokens into whole characters.
     */
    byte[] tokenBytes(int id);

    /** The vocabulary entry of {@code id} as stored (e.g. {@code "▁the"}, {@code "Ġthe"}, {@code "<0x0A>"}). */
    String tokenText(int id);

    /** The id whose vocabulary entry is exactly {@code tokenText}, or -1. */
    int tokenId(String tokenText);

    /** Beginning-of-sequence id, or -1 if the vocabulary has none. */
    int bos();

    /** End-of-sequence id, or -1 if the vocabulary has none. */
    int eos();

    /** Every id that ends generation (EOS, end-of-turn markers such as {@code <|eot_id|>} or {@code <|im_end|>}). */
    int[] eogTokens();

    default boolean isEog(int id) {
        for (int t : eogTokens()) {
            if (t == id) {
                return true;
            }
        }
        return false;
    }

    /**
     * True for special tokens (BOS, EOS, chat markers, the unknown token): they are never shown as text. gpt-oss's
     * channel and message markers are shown, as llama.cpp shows them, and are not control tokens here.
     */
    boolean isControl(int id);

    int vocabSize();

    /** Frees native resources (a Hugging Face tokenizer); GGUF tokenizers hold none. */
    @Override
    default void close() {}
}
