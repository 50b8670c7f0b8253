package io.flashllm.engine.tokenizer;

/**
 * GPT-2's reversible map from bytes to printable characters: bytes that are printable Latin-1 map to themselves,
 * the rest (controls, space, soft hyphen...) to U+0100 and up, so every byte string is a string of visible
 * characters (a space becomes "Ġ", a newline "Ċ").
 */
public final class ByteUnicode {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteUnicode() {}

    public static char toChar(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte for a mapped character, or -1 if {@code c} is not one. */
    public static int toByte(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /**
     * The bytes a byte-level vocabulary entry stands for; a character that is not a mapped byte (a plain-text
     * entry in an odd vocabulary) keeps its own UTF-8.
     */
    public static byte[] decode(String t) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(t.length());
        for (int i = 0; i < t.length(); i++) {
            int b = toByte(t.charAt(i));
            if (b >= 0) {
                out.write(b);
            } else {
                int cp = t.codePointAt(i);
                out.writeBytes(Character.toString(cp).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                i += Character.charCount(cp) - 1;
            }
        }
        return out.toByteArray();
    }

    public static String encode(byte[] bytes) {
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(out);
    }
}
