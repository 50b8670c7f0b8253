package io.flashllm.engine.api;

/** Receives tokens as they are generated; returning false cancels generation after this token. */
@FunctionalInterface
public interface GenerationListener {
    boolean onToken(GeneratedToken token);

    /** Called now and then while a long prompt is processed (tokens done, tokens in all); a server pings here. */
    default void onPromptProgress(int done, int total) {}
}
