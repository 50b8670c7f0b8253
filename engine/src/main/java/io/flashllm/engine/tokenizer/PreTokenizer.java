package io.flashllm.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The regex that cuts text into words before byte-level BPE, chosen by GGUF {@code tokenizer.ggml.pre}. Patterns
 * are the published GPT-2 / Llama 3 / Qwen2 ones; {@code \s} is Unicode-aware as in the Rust (Oniguruma) original.
 */
public enum PreTokenizer {
    GPT2("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"),
    LLAMA3("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
    QWEN2("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");

    private final String regex;
    private final Pattern pattern;

    PreTokenizer(String regex) {
        this.regex = regex;
        this.pattern = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
    }

    /** The pattern text (the same string goes into a tokenizer.json Split pre-tokenizer). */
    public String regex() {
        return regex;
    }

    /** The pieces of {@code text}; text between matches (the patterns match everything, but to be safe) is kept too. */
    public List<String> split(String text) {
        List<String> words = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) {
                words.add(text.substring(last, m.start()));
            }
            if (m.end() > m.start()) {
                words.add(m.group());
            }
            last = m.end();
        }
        if (last < text.length()) {
            words.add(text.substring(last));
        }
        return words;
    }

    /** The pre-tokenizer for a GGUF {@code tokenizer.ggml.pre} value; null or unknown names get GPT-2's. */
    public static PreTokenizer forGgufPre(String pre) {
        if (pre == null) {
            return GPT2;
        }
        return switch (pre) {
            case "llama3", "llama-v3", "llama-bpe", "smaug-bpe", "falcon3", "pixtral" -> LLAMA3;
            case "qwen2", "qwen3", "deepseek-r1-qwen" -> QWEN2;
            default -> GPT2;
        };
    }

    /** Whether {@code pre} is a name this class knows (unknown names fall back to GPT-2's pattern). */
    public static boolean isKnown(String pre) {
        return pre == null || switch (pre) {
            case "default", "gpt2", "gpt-2", "llama3", "llama-v3", "llama-bpe", "smaug-bpe", "falcon3", "pixtral",
                    "qwen2", "qwen3", "deepseek-r1-qwen" -> true;
            default -> false;
        };
    }
}
