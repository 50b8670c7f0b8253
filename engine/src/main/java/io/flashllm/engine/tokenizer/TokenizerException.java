package io.flashllm.engine.tokenizer;

/** A vocabulary or tokenizer file that cannot be used, or input a tokenizer cannot handle; the message says why. */
public class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
