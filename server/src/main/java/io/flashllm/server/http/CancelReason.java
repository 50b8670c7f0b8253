package io.flashllm.server.http;

import java.util.Locale;

/** Why a job was stopped early; the lower-case name is the metric tag. */
enum CancelReason {
    CLIENT_DISCONNECTED, SLOW_READER, SHUTDOWN;

    String tag() {
        return name().toLowerCase(Locale.ROOT);
    }
}
