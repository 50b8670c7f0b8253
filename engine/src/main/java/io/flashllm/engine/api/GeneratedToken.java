package io.flashllm.engine.api;

/**
 * One sampled token as it streams out. {@code text} holds only whole UTF-8 characters: bytes of a
 * character split across tokens are held back until the character is complete (so it may be empty).
 * {@code topIds}/{@code topLogprobs} are filled when logprobs were asked for, most likely first.
 */
public record GeneratedToken(int id, String text, float logprob, int[] topIds, float[] topLogprobs) {}
