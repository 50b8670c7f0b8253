package io.flashllm.server.http;

import io.flashllm.engine.api.Reasoning;
import io.flashllm.engine.api.ToolCallFormat;

/**
 * A streamed answer's text on its way out, whatever the wire: a thinking model's thinking taken apart
 * ({@link ReasoningSplitter}, when asked), and the answer's words held back from where a tool call opens
 * ({@link HeldBack}, with tools), the call going out whole at the end.
 */
final class StreamedText {
    private final ReasoningSplitter thoughts;
    private final HeldBack held;

    /** @param thinking the model's tags when its thinking goes apart, else null; @param calls with tools, how calls open */
    StreamedText(Reasoning thinking, ToolCallFormat calls) {
        this.thoughts = thinking == null ? null : new ReasoningSplitter(thinking);
        this.held = calls != null ? new HeldBack(calls.openers()) : null;
    }

    /** What one generated piece adds to the thinking and to the answer that can go out now. */
    ReasoningSplitter.Split push(String piece) {
        ReasoningSplitter.Split s = thoughts == null ? new ReasoningSplitter.Split("", piece) : thoughts.push(piece);
        return held == null ? s : new ReasoningSplitter.Split(s.reasoning(), held.push(s.content()));
    }

    /**
     * The end of generation: what the thinking and the answer still held, except a tool call's text; with
     * {@code call} false (the held text turned out to be no call) that text too.
     */
    ReasoningSplitter.Split finish(boolean call) {
        ReasoningSplitter.Split s = thoughts == null ? ReasoningSplitter.Split.NONE : thoughts.finish();
        if (held == null) return s;
        String content = held.push(s.content());
        return new ReasoningSplitter.Split(s.reasoning(), call ? content : content + held.rest());
    }

    boolean holdsCalls() {
        return held != null;
    }
}
