package io.flashllm.server.http;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/** Ids for responses and tool calls: a prefix and 24 random hex digits, as OpenAI's look. */
final class RandomIds {
    private RandomIds() {}

    static String next(String prefix) {
        byte[] b = new byte[12];
        ThreadLocalRandom.current().nextBytes(b);
        return prefix + HexFormat.of().formatHex(b);
    }
}
