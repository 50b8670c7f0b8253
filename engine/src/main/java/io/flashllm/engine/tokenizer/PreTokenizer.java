package io.flashllm.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The regex that cuts text into words before byte-level BPE, chosen by GGUF {@code tokenizer.ggml.pre}. Patterns
 * are the published GPT-2 / Llama 3 / Qwen2 / Tekken (Mistral Nemo) / GPT-4o ones; {@code \s} is Unicode-aware as
 * in the Rust (Oniguruma) original. SmolLM's (and StarCoder's) first cuts every digit apart, then applies GPT-2's
 * to each piece, as llama.cpp runs its regex sequences.
 */
public enum PreTokenizer {
    GPT2("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"),
    LLAMA3("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
    QWEN2("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
    /** Mistral's Tekken: words split at case changes, every digit alone, a slash kept with the punctuation before it. */
    TEKKEN("[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
            + "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
    /** GPT-4o's (Phi-4, Llama 4): Tekken's case splits with contractions, digits in threes. */
    GPT4O("[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
            + "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
            + "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
    /** SmolLM's: every digit alone first, then GPT-2's pattern on the pieces. */
    SMOLLM("\\p{N}", GPT2.regex);

    private final String regex;
    private final Pattern[] stages;

    PreTokenizer(String... regexes) {
        this.regex = regexes.length == 1 ? regexes[0] : null;
        this.stages = new Pattern[regexes.length];
        for (int i = 0; i < regexes.length; i++) stages[i] = Pattern.compile(regexes[i], Pattern.UNICODE_CHARACTER_CLASS);
    }

    /** The pattern text (the same string goes into a tokenizer.json Split pre-tokenizer); null for a sequence. */
    public String regex() {
        return regex;
    }

    /**
     * The pieces of {@code text}: each stage's regex cuts every piece so far into its matches and the text
     * between them (kept too: the single patterns match everything, but to be safe).
     */
    public List<String> split(String text) {
        List<String> pieces = List.of(text);
        for (Pattern stage : stages) {
            List<String> next = new ArrayList<>();
            for (String piece : pieces) cut(stage, piece, next);
            pieces = next;
        }
        return pieces;
    }

    private static void cut(Pattern pattern, String text, List<String> words) {
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
    }

    /** The pre-tokenizer for a GGUF {@code tokenizer.ggml.pre} value; null or unknown names get GPT-2's. */
    public static PreTokenizer forGgufPre(String pre) {
        if (pre == null) {
            return GPT2;
        }
        return switch (pre) {
            case "llama3", "llama-v3", "llama-bpe", "smaug-bpe", "falcon3", "pixtral" -> LLAMA3;
            case "qwen2", "qwen3", "deepseek-r1-qwen", "stablelm2", "megrez" -> QWEN2;
            case "tekken" -> TEKKEN;
            case "gpt-4o", "llama4" -> GPT4O;
            case "smollm", "starcoder", "refact", "command-r" -> SMOLLM;
            case "dbrx" -> LLAMA3;
            default -> GPT2;
        };
    }

    /** Whether {@code pre} is a name this class knows (unknown names fall back to GPT-2's pattern). */
    public static boolean isKnown(String pre) {
        return pre == null || switch (pre) {
            case "default", "gpt2", "gpt-2", "phi-2", "olmo", "mpt", "llama3", "llama-v3", "llama-bpe", "smaug-bpe",
                    "falcon3", "pixtral", "dbrx", "qwen2", "qwen3", "deepseek-r1-qwen", "stablelm2", "megrez", "tekken",
                    "gpt-4o", "llama4", "smollm", "starcoder", "refact", "command-r" -> true;
            default -> false;
        };
    }
}
