package io.flashllm.flashstore.bundle;

import java.nio.file.Path;

/** Child-process entry for the kill -9 test: converts args[0] into args[1], throttled to args[2] bytes/s. */
public final class ConvertChild {
    private ConvertChild() {}

    public static void main(String[] args) {
        Converter.convert(Path.of(args[0]), Path.of(args[1]),
                ConvertOptions.defaults().withMinReadBytes(4096).withTestThrottle(Long.parseLong(args[2])));
        System.out.println("done");
    }
}
