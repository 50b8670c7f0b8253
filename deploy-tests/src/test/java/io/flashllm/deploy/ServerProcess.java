package io.flashllm.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The real server (server/target/flashllm.jar) as a child process on loopback. */
final class ServerProcess implements AutoCloseable {
    final int port;
    final Path log;
    private final Process process;

    private ServerProcess(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /**
     * Starts `flashllm serve` with the given model (null: the demo model) and settings (FLASHLLM_*
     * environment variables), and waits for /health.
     */
    static ServerProcess start(Path workDir, Path model, Map<String, String> settings) throws IOException, InterruptedException {
        int port = Http.freePort();
        Path log = workDir.resolve("flashllm.log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-XX:+UnlockDiagnosticVMOptions", "-XX:+IncrementalInlineForceCleanup",
                "-XX:CompileCommand=quiet", "-XX:CompileCommand=inline,io.flashllm.kernels.cpu.VectorMath::exp", "-XX:CompileCommand=inline,io.flashllm.kernels.cpu.VectorMath::tanh",
                "-XX:TrimNativeHeapInterval=1000",
                "-XX:+UseParallelGC", "-Xss4m", "-Xmx512m", "-jar", Repo.jar().toString(), "serve"));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("FLASHLLM_"));
        env.put("FLASHLLM_HOST", "127.0.0.1");
        env.put("FLASHLLM_PORT", Integer.toString(port));
        env.put("FLASHLLM_HOME", workDir.resolve("home").toString());   // where the demo model is synthesized
        if (model != null) env.put("FLASHLLM_MODEL", model.toString());
        env.putAll(settings);
        ServerProcess s = new ServerProcess(pb.start(), port, log);
        if (!Http.awaitOk(s.url("/health"), Duration.ofSeconds(120), s.process::isAlive)) {
            String out = s.logText();
            s.close();
            throw new AssertionError("flashllm did not become healthy on port " + port + "; log:\n" + out);
        }
        return s;
    }

    String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    String logText() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() {
        process.destroy();   // SIGTERM: the server drains
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
