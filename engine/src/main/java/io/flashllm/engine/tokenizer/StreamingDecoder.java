package io.flashllm.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns generated tokens into text one token at a time without ever emitting part of a UTF-8 character: bytes
 * of an unfinished character (byte-fallback tokens spell one byte each) are held until the character is complete.
 * Bytes that can never become a valid character come out as U+FFFD at once. Not thread-safe; one per generation.
 *
 * <p>Text is the raw continuation: a SentencePiece token "▁Hi" gives " Hi" (no leading-space stripping).
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private boolean stripSpace;
    private byte[] pending = new byte[16];
    private int size;

    /** A decoder that keeps every byte (what a text completion needs: " Paris" after "The capital is"). */
    public StreamingDecoder(Tokenizer tokenizer) {
        this(tokenizer, false);
    }

    /**
     * @param stripLeadingSpace drop one space at the very start of the output: a chat answer after "[/INST]"
     *                          begins with SentencePiece's word marker, which is not meant as text
     */
    public StreamingDecoder(Tokenizer tokenizer, boolean stripLeadingSpace) {
        this.tokenizer = tokenizer;
        this.stripSpace = stripLeadingSpace;
    }

    /**
     * Adds one token; returns the text that became complete (often empty while a character is unfinished). Ids
     * past the tokenizer's vocabulary (a model's padding rows) have no text.
     */
    public String accept(int token) {
        if (token < 0 || token >= tokenizer.vocabSize()) {
            return "";
        }
        byte[] b = tokenizer.tokenBytes(token);
        if (stripSpace && b.length > 0) {
            stripSpace = false;
            if (b[0] == ' ') {
                b = java.util.Arrays.copyOfRange(b, 1, b.length);
            }
        }
        append(b);
        int complete = completePrefix(pending, size);
        if (complete == 0) {
            return "";
        }
        String s = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, size - complete);
        size -= complete;
        return s;
    }

    /** Whatever is still held (an unfinished character becomes U+FFFD); the decoder is then empty. */
    public String flush() {
        String s = new String(pending, 0, size, StandardCharsets.UTF_8);
        size = 0;
        return s;
    }

    /** Bytes held back, waiting for the rest of a character. */
    public int pendingBytes() {
        return size;
    }

    private void append(byte[] b) {
        if (size + b.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, size + b.length));
        }
        System.arraycopy(b, 0, pending, size, b.length);
        size += b.length;
    }

    /**
     * Length of the longest prefix that decodes without cutting a character: everything except a trailing
     * sequence that is a valid start of a character still missing bytes.
     */
    static int completePrefix(byte[] buf, int n) {
        // A character is at most 4 bytes, so only the last 3 bytes can be an unfinished one.
        for (int start = Math.max(0, n - 3); start < n; start++) {
            int lead = buf[start] & 0xFF;
            int need = sequenceLength(lead);
            if (need <= 1 || start + need <= n) {
                continue;
            }
            if (validContinuation(buf, start, n, lead)) {
                return start;
            }
        }
        return n;
    }

    /** Bytes in the character a lead byte starts; 1 for ASCII and for bytes that cannot start a character. */
    private static int sequenceLength(int lead) {
        if (lead >= 0xC2 && lead <= 0xDF) return 2;
        if (lead >= 0xE0 && lead <= 0xEF) return 3;
        if (lead >= 0xF0 && lead <= 0xF4) return 4;
        return 1;
    }

    /** Whether the bytes after {@code start} are a correct (if short) continuation of {@code lead} (RFC 3629). */
    private static boolean validContinuation(byte[] buf, int start, int n, int lead) {
        for (int i = start + 1; i < n; i++) {
            int b = buf[i] & 0xFF;
            int lo = 0x80, hi = 0xBF;
            if (i == start + 1) {
                if (lead == 0xE0) lo = 0xA0;
                else if (lead == 0xED) hi = 0x9F;
                else if (lead == 0xF0) lo = 0x90;
                else if (lead == 0xF4) hi = 0x8F;
            }
            if (b < lo || b > hi) {
                return false;
            }
        }
        return true;
    }
}
