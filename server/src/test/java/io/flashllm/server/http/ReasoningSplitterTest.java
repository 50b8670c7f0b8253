package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flashllm.engine.api.Reasoning;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReasoningSplitterTest {
    static final Reasoning QWEN3 = Reasoning.thinkTags(false);
    static final Reasoning R1 = Reasoning.thinkTags(true);

    static ReasoningSplitter.Split split(Reasoning tags, String text) {
        return ReasoningSplitter.whole(tags, text);
    }

    /** The same text pushed in pieces of every size from 1 to 9 characters. */
    static void sameInPieces(Reasoning tags, String text) {
        ReasoningSplitter.Split whole = split(tags, text);
        for (int size = 1; size < 10; size++) {
            ReasoningSplitter s = new ReasoningSplitter(tags);
            StringBuilder r = new StringBuilder(), c = new StringBuilder();
            for (int i = 0; i < text.length(); i += size) {
                ReasoningSplitter.Split p = s.push(text.substring(i, Math.min(text.length(), i + size)));
                r.append(p.reasoning());
                c.append(p.content());
            }
            ReasoningSplitter.Split end = s.finish();
            assertEquals(whole, new ReasoningSplitter.Split(r + end.reasoning(), c + end.content()),
                    "pieces of " + size + " of " + text);
        }
    }

    @Test
    void thinkingThenAnswer() {
        assertEquals(new ReasoningSplitter.Split("They greet me.\nI greet back.", "Hello."),
                split(QWEN3, "<think>\nThey greet me.\nI greet back.\n</think>\n\nHello."));
        assertEquals(new ReasoningSplitter.Split("", "Hello."), split(QWEN3, "<think>\n\n</think>\n\nHello."),
                "thinking off: the empty block the prompt ends with is not repeated, but a model may repeat it");
        assertEquals(new ReasoningSplitter.Split("", "Hello. <think> is a tag"), split(QWEN3, "Hello. <think> is a tag"),
                "a tag later in the answer is answer");
        assertEquals(new ReasoningSplitter.Split("", "<thing>"), split(QWEN3, "<thing>"));
        assertEquals(new ReasoningSplitter.Split("", "<thin"), split(QWEN3, "<thin"), "cut before the tag was whole");
        assertEquals(new ReasoningSplitter.Split("still going", ""), split(QWEN3, "<think>\nstill going\n"),
                "cut inside the thinking by the token limit");
        assertEquals(new ReasoningSplitter.Split("a < b </thin", "x"), split(QWEN3, "<think>a < b </thin</think>x"));
    }

    /** gpt-oss's tags, from its chat format. */
    static final Reasoning HARMONY = io.flashllm.engine.chat.ChatTemplates.forModel(java.util.Map.of("tokenizer.ggml.tokens",
            List.of("<|start|>", "<|message|>", "<|channel|>", "<|end|>", "<|return|>", "<|call|>"))).reasoning();

    /** gpt-oss: its analysis channel is the thinking, its final channel the answer; the markers are neither. */
    @Test
    void harmonyChannels() {
        String text = "<|channel|>analysis<|message|>User asks 2+2. Answer 4.<|start|>assistant<|channel|>final<|message|>4.";
        assertEquals(new ReasoningSplitter.Split("User asks 2+2. Answer 4.", "4."), split(HARMONY, text));
        assertEquals(new ReasoningSplitter.Split("", "4."), split(HARMONY, "<|channel|>final<|message|>4."),
                "straight to the final channel");
        assertEquals(new ReasoningSplitter.Split("cut", ""), split(HARMONY, "<|channel|>analysis<|message|>cut"));
        assertEquals(new ReasoningSplitter.Split("", ""), split(HARMONY, "<|channel|>final<|message|>"),
                "an empty answer: the opener alone is no answer text");
        assertEquals(new ReasoningSplitter.Split("", "<|channel|>commentary to=functions"),
                split(HARMONY, "<|channel|>commentary to=functions"), "another channel is left as it came");
        sameInPieces(HARMONY, text);
        sameInPieces(HARMONY, "<|channel|>final<|message|>4.");
        sameInPieces(HARMONY, "<|chan");

        String call = "<|channel|>analysis<|message|>Need the weather.<|start|>assistant<|channel|>commentary to=functions.w"
                + " <|constrain|>json<|message|>{}";
        assertEquals(new ReasoningSplitter.Split("Need the weather.", "<|channel|>commentary to=functions.w <|constrain|>json<|message|>{}"),
                split(HARMONY, call), "a call after the analysis: its header stays for the call's reader");
        String before = "<|channel|>analysis<|message|>Need it.<|start|>assistant to=functions.w<|channel|>commentary json<|message|>{}";
        assertEquals(new ReasoningSplitter.Split("Need it.", " to=functions.w<|channel|>commentary json<|message|>{}"),
                split(HARMONY, before), "the recipient before the channel");
        String twice = "<|channel|>analysis<|message|>First.<|start|>assistant<|channel|>analysis<|message|>Second."
                + "<|start|>assistant<|channel|>final<|message|>Done.";
        assertEquals(new ReasoningSplitter.Split("First.\n\nSecond.", "Done."), split(HARMONY, twice),
                "a second analysis message is more thinking");
        for (String t : List.of(call, before, twice, "<|channel|>analysis<|message|>x<|start|>assistant", "<|channel|>analysis<|message|>x<|start|>assistant<|chan")) {
            sameInPieces(HARMONY, t);
        }
    }

    @Test
    void promptOpensTheThinking() {
        assertEquals(new ReasoningSplitter.Split("Hmm.", "Four."), split(R1, "Hmm.\n</think>\n\nFour."));
        assertEquals(new ReasoningSplitter.Split("Hmm.", "Four."), split(R1, "<think>\nHmm.\n</think>\n\nFour."),
                "the model repeats the opening tag (older R1 templates)");
        assertEquals(new ReasoningSplitter.Split("no answer yet", ""), split(R1, "no answer yet"));
    }

    @Test
    void piecesSplitTheSameAsTheWhole() {
        for (String text : List.of("<think>\nThey greet me.\n</think>\n\nHello.", "Hello, world!", "  <think>x</think>y",
                "<think>a </ b </think>\n\n\nc\n", "<thi", "<think>\n\n</think>\n\n", "<think>cut \n ")) {
            sameInPieces(QWEN3, text);
        }
        for (String text : List.of("Hmm.\n</think>\n\nFour.", "\n<think>\nHmm.</think>Four.", "<", "\n\n")) {
            sameInPieces(R1, text);
        }
    }

    /** Random texts of tag pieces, newlines and words, cut at random places: the stream splits as the whole. */
    @Test
    void randomTextsSplitTheSameStreamedAndWhole() {
        String[] parts = {"<think>", "</think>", "<", "</", "<thi", "think>", ">", "\n", "\n\n", " ", "a", "b c", "/"};
        java.util.Random rnd = new java.util.Random(36);
        for (int round = 0; round < 3000; round++) {
            StringBuilder text = new StringBuilder();
            int n = rnd.nextInt(12);
            for (int i = 0; i < n; i++) text.append(parts[rnd.nextInt(parts.length)]);
            Reasoning tags = rnd.nextBoolean() ? QWEN3 : R1;
            if (round % 3 == 0) {
                // gpt-oss's markers instead.
                String[] harmony = {"<|channel|>", "analysis", "final", "commentary", "<|message|>", "<|start|>", "assistant",
                        "<|start|>assistant", " to=functions.f", "<|", "a", "\n"};
                text.setLength(0);
                for (int i = 0; i < n; i++) text.append(harmony[rnd.nextInt(harmony.length)]);
                tags = HARMONY;
            }
            ReasoningSplitter.Split whole = split(tags, text.toString());
            ReasoningSplitter s = new ReasoningSplitter(tags);
            StringBuilder r = new StringBuilder(), c = new StringBuilder();
            for (int at = 0; at < text.length(); ) {
                int len = 1 + rnd.nextInt(4);
                ReasoningSplitter.Split p = s.push(text.substring(at, Math.min(text.length(), at + len)));
                r.append(p.reasoning());
                c.append(p.content());
                at += len;
            }
            ReasoningSplitter.Split end = s.finish();
            assertEquals(whole, new ReasoningSplitter.Split(r + end.reasoning(), c + end.content()), "text " + text);
        }
    }

    @Test
    void countsTheTokensSpentThinking() {
        List<String> pieces = List.of("<think>", "\n", "Hmm", ".", "\n", "</think>", "\n\n", "Hi", "!");
        int[] ids = new int[pieces.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = i;
        assertEquals(6, ReasoningSplitter.thinkingTokens(QWEN3, ids, pieces::get));
        // A tag spelled over several tokens counts them all; an answer with none counts nothing.
        List<String> chars = List.of("<", "th", "ink>", "a", "</", "think>", "b");
        assertEquals(6, ReasoningSplitter.thinkingTokens(QWEN3, new int[] {0, 1, 2, 3, 4, 5, 6}, chars::get));
        List<String> plain = List.of("<", "b", ">");
        assertEquals(0, ReasoningSplitter.thinkingTokens(QWEN3, new int[] {0, 1, 2}, plain::get));
    }
}
