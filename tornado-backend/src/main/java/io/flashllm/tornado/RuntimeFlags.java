package io.flashllm.tornado;

/**
 * TornadoVM settings the backend depends on, applied before the runtime first reads them (its
 * options are static fields, read once) unless the user set them on the command line.
 */
final class RuntimeFlags {
    private RuntimeFlags() {}

    /**
     * No silent fallback: a task TornadoVM cannot compile must fail, not run as sequential Java. And
     * room for a whole decode step in one graph: TornadoVM's bytecode buffer defaults to 4 KiB, a
     * few dozen tasks; a segment takes 6 to 10 tasks per layer and ~60 bytes each. And event lists
     * of 1,024 entries, not 32,768: TornadoVM clears them all before every graph execution, ~4 MB
     * of memset per graph that halved an H200's decode; a list that overflows is an error.
     * {@code bin/flashllm} passes the same flags on the command line, where they are surely read first.
     */
    static void apply() {
        setIfAbsent("tornado.recover.bailout", "False");
        setIfAbsent("tornado.tvm.maxbytecodesize", Integer.toString(1 << 20));
        setIfAbsent("tornado.max.events", "1024");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }
}
