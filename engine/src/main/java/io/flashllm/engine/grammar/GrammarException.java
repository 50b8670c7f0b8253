package io.flashllm.engine.grammar;

/** A grammar or JSON schema that cannot be used: the message names the fault and where it is. */
public final class GrammarException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public GrammarException(String message) {
        super(message);
    }
}
