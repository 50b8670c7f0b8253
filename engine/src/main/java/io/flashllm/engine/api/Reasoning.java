package io.flashllm.engine.api;

/**
 * How a model that thinks aloud marks its thinking: the text between {@code open} and {@code close}
 * comes before its answer (Qwen3, QwQ and DeepSeek R1 write {@code <think>...</think>}; gpt-oss writes
 * its analysis channel, then opens its final one).
 *
 * @param open        the tag that opens the thinking
 * @param close       the tag that closes it
 * @param promptOpens whether the chat format's reply opener already holds {@code open} (DeepSeek R1's and
 *                    QwQ's do), so the generated text starts inside the thinking without the tag
 * @param answerOpen  a tag that opens an answer given without thinking, dropped from it (gpt-oss's final
 *                    channel), or null
 */
public record Reasoning(String open, String close, boolean promptOpens, String answerOpen) {
    public static final String THINK_OPEN = "<think>";
    public static final String THINK_CLOSE = "</think>";

    /** Tags with no opener of an answer that comes without thinking. */
    public Reasoning(String open, String close, boolean promptOpens) {
        this(open, close, promptOpens, null);
    }

    /** The same tags, the reply's opener holding {@code open} or not. */
    public Reasoning withPromptOpens(boolean opens) {
        return new Reasoning(open, close, opens, answerOpen);
    }

    /** What comes between the thinking and the answer: the closing tag, then the answer's opener where there is one. */
    public String answerStart() {
        return answerOpen == null ? close : close + answerOpen;
    }

    /** {@code <think>...</think>}, the model writing the opening tag itself (Qwen3). */
    public static Reasoning thinkTags(boolean promptOpens) {
        return new Reasoning(THINK_OPEN, THINK_CLOSE, promptOpens);
    }

    /**
     * The answer part of a reply that may hold thinking: what follows the last closing tag, without the
     * newlines right after it, or the whole reply when it has none. Chat formats of thinking models
     * drop the thinking of earlier turns from the prompt this way.
     */
    public String answerOf(String reply) {
        int at = reply.lastIndexOf(close);
        if (at < 0) return reply;
        int from = at + close.length();
        while (from < reply.length() && reply.charAt(from) == '\n') from++;
        return reply.substring(from);
    }
}
