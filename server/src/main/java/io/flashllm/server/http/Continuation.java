package io.flashllm.server.http;

/**
 * When a prompt continues a conversation whose keys and values are held somewhere (a slot's
 * session, or a save on flash): it starts with all of the conversation's last prompt, or all but
 * its last token (the same prompt again runs that token, whose logits the cache does not keep), and
 * shares at least one token with it. The slot choice and the spilled conversations use this one rule.
 */
final class Continuation {
    private Continuation() {}

    /**
     * @param common           leading tokens the prompt shares with what is held (at most its length - 1)
     * @param lastPromptLength the prompt length of the request that filled what is held
     */
    static boolean continues(int common, int lastPromptLength) {
        return common > 0 && common >= lastPromptLength - 1;
    }

    /** Leading tokens {@code prompt} shares with {@code held}, short of the prompt's last token (it always runs). */
    static int commonStart(int[] held, int[] prompt) {
        int limit = Math.min(held.length, prompt.length - 1);
        int n = 0;
        while (n < limit && held[n] == prompt[n]) n++;
        return n;
    }
}
