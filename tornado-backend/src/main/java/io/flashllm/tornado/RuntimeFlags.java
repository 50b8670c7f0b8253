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
     * few dozen tasks; a model takes about 20 tasks per layer and ~60 bytes each.
     */
    static void apply() {
        setIfAbsent("tornado.recover.bailout", "False");
        setIfAbsent("tornado.tvm.maxbytecodesize", Integer.toString(1 << 20));
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }
}
