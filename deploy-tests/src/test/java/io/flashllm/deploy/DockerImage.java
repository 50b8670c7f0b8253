package io.flashllm.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds the repository's Dockerfile with the docker CLI (the reference for .dockerignore and the
 * legacy builder), from the jar already built by Maven and locally built base images: nothing is
 * pulled. FLASHLLM_IT_JDK_IMAGE / FLASHLLM_IT_RUNTIME_IMAGE choose other local base images.
 */
final class DockerImage {
    static final String TAG = "flashllm:it";

    private DockerImage() {}

    static String jdkImage() {
        return System.getenv().getOrDefault("FLASHLLM_IT_JDK_IMAGE", "flashllm/jdk25-local");
    }

    static String runtimeImage() {
        return System.getenv().getOrDefault("FLASHLLM_IT_RUNTIME_IMAGE", "flashllm/base:bookworm");
    }

    static boolean present(String image) throws IOException, InterruptedException {
        return run(List.of("docker", "image", "inspect", image), 60).exit == 0;
    }

    static void build() throws IOException, InterruptedException {
        Result r = run(List.of("docker", "build", "--network", "host", "--pull=false", "--force-rm",
                "--build-arg", "JDK_IMAGE=" + jdkImage(), "--build-arg", "RUNTIME_IMAGE=" + runtimeImage(),
                "--build-arg", "JAR=prebuilt", "-t", TAG, Repo.root().toString()), 600);
        if (r.exit != 0) throw new AssertionError("docker build failed (exit " + r.exit + "):\n" + r.output);
    }

    record Result(int exit, String output) {}

    static Result run(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true)
                .directory(Path.of(System.getProperty("java.io.tmpdir")).toFile());
        pb.environment().put("DOCKER_BUILDKIT", "0");   // no buildx plugin on Debian's docker.io
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, "timed out after " + timeoutSeconds + " s: " + command);
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
