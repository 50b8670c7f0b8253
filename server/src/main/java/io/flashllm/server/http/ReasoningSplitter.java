package io.flashllm.server.http;

import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.Reasoning;
import java.util.function.IntFunction;

/**
 * Splits a thinking model's text, as it streams, into its thinking and its answer: what comes between the
 * opening and closing tags (the opening one may be in the prompt already) goes to {@code reasoning}, what
 * follows to {@code content}. The tags, the newlines right inside them and those right after the closing
 * tag are dropped, as llama.cpp's {@code reasoning_content} and Ollama's {@code thinking} give them (and the
 * format's answer opener, where it has one: gpt-oss's analysis closes where its next message starts, and the final
 * channel's opener is no part of the answer, while a call's header stays for its reader). A tail
 * that could still become a tag is held until the next piece tells; text that does not start with
 * thinking is all answer (less the format's answer opener, where it has one).
 */
final class ReasoningSplitter {
    /** What one piece of text adds to each part (either may be empty). */
    record Split(String reasoning, String content) {
        static final Split NONE = new Split("", "");
    }

    private enum State { START, THINKING, ANSWER }

    private final Reasoning tags;
    private final StringBuilder held = new StringBuilder();
    private State state;
    /** Newlines are skipped at the start of the thinking and of the answer after it. */
    private boolean skipNewlines;
    /** Right after the thinking closed: the answer may start with the format's answer opener, which is dropped. */
    private boolean opening;

    /** @param tags the model's tags; {@code promptOpens}: the text starts inside the thinking */
    ReasoningSplitter(Reasoning tags) {
        this.tags = tags;
        this.state = tags.promptOpens() ? State.THINKING : State.START;
        this.skipNewlines = tags.promptOpens();
    }

    /** The thinking and the answer of a whole text; with {@code tags} null, all of it is answer. */
    static Split whole(Reasoning tags, String text) {
        if (tags == null) return new Split("", text);
        ReasoningSplitter s = new ReasoningSplitter(tags);
        Split a = s.push(text);
        Split b = s.finish();
        return new Split(a.reasoning() + b.reasoning(), a.content() + b.content());
    }

    /** How many of {@code tokens} the model spent thinking (the tags' own tokens included). */
    static int thinkingTokens(Reasoning tags, int[] tokens, IntFunction<String> text) {
        ReasoningSplitter s = new ReasoningSplitter(tags);
        int n = 0;
        int undecided = 0; // tokens of what may still be the opening tag
        for (int t : tokens) {
            boolean before = s.state == State.THINKING;
            s.push(text.apply(t));
            if (s.state == State.START) {
                undecided++;
            } else if (before || s.state == State.THINKING) {
                n += 1 + (before ? 0 : undecided);
                undecided = 0;
            } else {
                undecided = 0;
            }
        }
        return n;
    }

    Split push(GeneratedToken token) {
        return push(token.text() == null ? "" : token.text());
    }

    Split push(String piece) {
        if (state == State.ANSWER && held.isEmpty() && !opening) return new Split("", skip(piece));
        held.append(piece);
        if (state == State.START) {
            int lead = 0;
            while (lead < held.length() && Character.isWhitespace(held.charAt(lead))) lead++;
            String rest = held.substring(lead);
            String answerOpen = tags.answerOpen();
            if (rest.startsWith(tags.open())) {
                held.delete(0, lead + tags.open().length());
                state = State.THINKING;
                skipNewlines = true;
            } else if (answerOpen != null && rest.startsWith(answerOpen)) {
                // An answer without thinking (gpt-oss's final channel first): its opener is no part of it.
                held.delete(0, lead + answerOpen.length());
                state = State.ANSWER;
                skipNewlines = true;
                String all = held.toString();
                held.setLength(0);
                return new Split("", skip(all));
            } else if (tags.open().startsWith(rest) || (answerOpen != null && answerOpen.startsWith(rest))) {
                return Split.NONE; // could still be the opening tag
            } else {
                state = State.ANSWER;
                String all = held.toString();
                held.setLength(0);
                return new Split("", all);
            }
        }
        if (state == State.THINKING) {
            if (skipNewlines) {
                // The thinking may repeat an opening tag the prompt already wrote (older R1 templates).
                int lead = 0;
                while (lead < held.length() && held.charAt(lead) == '\n') lead++;
                String rest = held.substring(lead);
                if (rest.isEmpty() || (tags.open().startsWith(rest) && !rest.isEmpty())) return Split.NONE;
                held.delete(0, lead);
                if (rest.startsWith(tags.open())) {
                    held.delete(0, tags.open().length());
                    return push("");
                }
                skipNewlines = false;
            }
            int at = held.indexOf(tags.close());
            if (at >= 0) {
                String thought = held.substring(0, at).stripTrailing();
                held.delete(0, at + tags.close().length());
                state = State.ANSWER;
                skipNewlines = true;
                opening = tags.answerOpen() != null;
                String answer = answer();
                if (answer != null) return new Split(thought, answer);
                Split more = resume();
                return new Split(thought + more.reasoning(), more.content());
            }
            int keep = heldTail();
            String out = held.substring(0, held.length() - keep);
            held.delete(0, held.length() - keep);
            return new Split(out, "");
        }
        String answer = answer();
        return answer != null ? new Split("", answer) : resume();
    }

    /** Another message of thinking after the first (gpt-oss may write more analysis before its answer). */
    private Split resume() {
        held.delete(0, tags.open().length());
        state = State.THINKING;
        skipNewlines = true;
        Split more = push("");
        return new Split("\n\n" + more.reasoning(), more.content());
    }

    /**
     * The answer held so far, less the format's answer opener where the thinking closed before one (gpt-oss's
     * final channel; its calls have none); held while it could still be the opener; null where the thinking opens
     * again instead.
     */
    private String answer() {
        if (opening) {
            String open = tags.answerOpen();
            String text = held.toString();
            if (text.startsWith(open)) {
                held.delete(0, open.length());
                opening = false;
            } else if (text.startsWith(tags.open())) {
                opening = false;
                return null;
            } else if (open.startsWith(text) || tags.open().startsWith(text)) {
                return "";
            } else {
                opening = false;
            }
        }
        String all = held.toString();
        held.setLength(0);
        return skip(all);
    }

    /** The end of the text: whatever was held goes to the part it was in. */
    Split finish() {
        String rest = held.toString();
        held.setLength(0);
        return switch (state) {
            case START -> new Split("", rest);
            case THINKING -> new Split(skipNewlines ? rest.strip() : rest.stripTrailing(), "");
            case ANSWER -> new Split("", rest);
        };
    }

    /** Whether the text is inside the thinking now. */
    boolean thinking() {
        return state == State.THINKING;
    }

    /**
     * Inside the thinking, the tail to hold: whitespace followed by what could be the start of the closing
     * tag (the whitespace just before the tag is not part of the thinking).
     */
    private int heldTail() {
        int n = held.length();
        int from = n - HeldBack.partialMarker(held, tags.close());
        while (from > 0 && Character.isWhitespace(held.charAt(from - 1))) from--;
        return n - from;
    }

    private String skip(String text) {
        if (!skipNewlines) return text;
        int i = 0;
        while (i < text.length() && text.charAt(i) == '\n') i++;
        if (i < text.length()) skipNewlines = false;
        return text.substring(i);
    }
}
