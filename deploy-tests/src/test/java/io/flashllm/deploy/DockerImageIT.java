package io.flashllm.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.HealthCheck;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The image as users run it: built from the Dockerfile, started by Testcontainers under a memory
 * limit (host network: no bridge here), healthy, streaming a completion from the demo model,
 * exporting metrics, running as a non-root user, and draining cleanly on SIGTERM.
 */
class DockerImageIT {
    private static final long MEMORY = 768L << 20;

    @BeforeAll
    static void buildImage() throws Exception {
        Repo.requireJar();
        boolean docker = DockerClientFactory.instance().isDockerAvailable();
        Repo.require(docker, "no Docker daemon (install docker.io and start dockerd: .ci/install-deps.sh, .ci/docker-base.sh)");
        for (String base : new String[] {DockerImage.jdkImage(), DockerImage.runtimeImage()}) {
            Repo.require(DockerImage.present(base), "base image " + base + " is missing; build it with .ci/docker-base.sh");
        }
        DockerImage.build();
    }

    @Test
    void servesUnderAMemoryLimitAndShutsDownCleanlyOnSigterm() throws Exception {
        int port = Http.freePort();
        DockerClient client = DockerClientFactory.instance().client();
        try (GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(DockerImage.TAG))) {
            c.withImagePullPolicy(name -> false)
                    .withNetworkMode("host")
                    .withEnv("FLASHLLM_HOST", "127.0.0.1")
                    .withEnv("FLASHLLM_PORT", Integer.toString(port))
                    .withEnv("FLASHLLM_SHUTDOWN_GRACE_SECONDS", "20")
                    // The image's own HEALTHCHECK command, probed every second instead of every 10.
                    .withCreateContainerCmdModifier(cmd -> {
                        cmd.getHostConfig().withMemory(MEMORY).withMemorySwap(MEMORY);
                        cmd.withHealthcheck(new HealthCheck().withInterval(Duration.ofSeconds(1).toNanos())
                                .withStartPeriod(Duration.ofSeconds(60).toNanos()));
                    })
                    .withStartupTimeout(Duration.ofSeconds(120));
            c.start();
            String base = "http://127.0.0.1:" + port;
            assertTrue(Http.awaitOk(base + "/health", Duration.ofSeconds(120), c::isRunning),
                    "container never became healthy; logs:\n" + c.getLogs());

            Http.SseResult s = Traffic.completion(base);
            assertFalse(s.text().isEmpty(), "the demo model generated no text");

            String metrics = Http.get(base + "/metrics").body();
            assertTrue(value(metrics, "flashllm_generated_tokens_total") >= 1, "generated tokens not counted");
            assertTrue(value(metrics, "flashllm_time_to_first_token_seconds_count") >= 1, "TTFT not recorded");
            // The heap is a quarter of the container limit; the rest is for weights and off-heap buffers.
            double heapMax = sum(metrics, "jvm_memory_max_bytes", "area=\"heap\"");
            assertTrue(heapMax > 0 && heapMax <= 0.3 * MEMORY, "heap max " + heapMax + " vs limit " + MEMORY);

            assertEquals("10001:10001", c.getContainerInfo().getConfig().getUser(), "image user");
            assertEquals("10001", c.execInContainer("id", "-u").getStdout().trim(), "process user");
            assertTrue(awaitHealthy(client, c.getContainerId()), "docker HEALTHCHECK never reported healthy");

            // SIGTERM with a stream in flight: the request finishes, then the JVM exits on its own.
            CompletableFuture<Http.SseResult> inFlight = CompletableFuture.supplyAsync(() -> {
                try {
                    return Http.stream(base + "/v1/completions", Traffic.COMPLETION);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(150);
            long t0 = System.nanoTime();
            client.killContainerCmd(c.getContainerId()).withSignal("SIGTERM").exec();
            InspectContainerResponse.ContainerState state = awaitExit(client, c.getContainerId(), Duration.ofSeconds(40));
            double seconds = (System.nanoTime() - t0) / 1e9;
            String logs = c.getLogs();
            assertFalse(Boolean.TRUE.equals(state.getRunning()), "still running 40 s after SIGTERM; logs:\n" + logs);
            assertFalse(Boolean.TRUE.equals(state.getOOMKilled()), "killed for memory; logs:\n" + logs);
            // 143 = 128 + SIGTERM: how a JVM reports an orderly exit on that signal once its hooks ran.
            long exit = state.getExitCodeLong();
            assertTrue(exit == 143 || exit == 0, "exit code " + exit + "; logs:\n" + logs);
            assertTrue(logs.contains("shutting down"), "no graceful shutdown in the logs:\n" + logs);
            assertTrue(seconds < 25, "shutdown took " + seconds + " s");
            Http.SseResult drained = inFlight.get();
            assertTrue(drained.status() == 200 && drained.done(), "in-flight stream cut off by the shutdown");
        }
    }

    private static boolean awaitHealthy(DockerClient client, String id) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            var health = client.inspectContainerCmd(id).exec().getState().getHealth();
            if (health != null && "healthy".equals(health.getStatus())) return true;
            Thread.sleep(300);
        }
        return false;
    }

    private static InspectContainerResponse.ContainerState awaitExit(DockerClient client, String id, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        InspectContainerResponse.ContainerState state = client.inspectContainerCmd(id).exec().getState();
        while (Boolean.TRUE.equals(state.getRunning()) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            state = client.inspectContainerCmd(id).exec().getState();
        }
        return state;
    }

    private static double value(String scrape, String name) {
        return sum(scrape, name, "");
    }

    /** Sum of the samples of a metric (optionally only those whose labels contain labelPart). */
    private static double sum(String scrape, String name, String labelPart) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*})? (\\S+)").matcher(scrape);
        double total = 0;
        boolean any = false;
        while (m.find()) {
            if (!labelPart.isEmpty() && (m.group(1) == null || !m.group(1).contains(labelPart))) continue;
            total += Double.parseDouble(m.group(2));
            any = true;
        }
        assertTrue(any, "metric " + name + " " + labelPart + " not in /metrics");
        return total;
    }
}
