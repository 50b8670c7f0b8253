package io.flashllm.server.cli;

import picocli.CommandLine;

/** {@code --version}: the jar's version and the Java runtime it runs on. */
final class VersionInfo implements CommandLine.IVersionProvider {
    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    @Override
    public String[] getVersion() {
        return new String[] {
                "flashllm " + version(),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ", "
                        + System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " cores)"
        };
    }
}
