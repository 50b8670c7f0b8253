package io.flashllm.loadtests;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.asLongAs;
import static io.gatling.javaapi.core.CoreDsl.doIf;
import static io.gatling.javaapi.core.CoreDsl.exitBlockOnFail;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.core.CoreDsl.substring;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.sse;

import io.gatling.http.action.sse.SseInboundMessage;
import io.gatling.javaapi.core.PopulationBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Streaming completions (SSE) against a running flashllm on loopback, at each load level in turn
 * (default 1, 4 and 16 concurrent users). Gatling counts requests and errors and times the first
 * token; inter-token gaps, tokens/s and TTFT per level come from Gatling's SSE receive times and are
 * printed as a table at the end (and written to target/flashllm-loadtest.json).
 *
 * <pre>../mvnw -f loadtests/pom.xml gatling:test -DbaseUrl=http://127.0.0.1:8080 -Dlevels=1,4,16 -Drequests=10</pre>
 */
public class StreamingCompletionsSimulation extends Simulation {
    private final LoadSettings settings = LoadSettings.fromSystemProperties();
    private final List<TokenTimings> timings = new ArrayList<>();
    /** Streams started so far, all levels: numbers the prompts when they are to be distinct. */
    private final AtomicLong streams = new AtomicLong();

    private final HttpProtocolBuilder protocol = protocol();

    private HttpProtocolBuilder protocol() {
        HttpProtocolBuilder p = http.baseUrl(settings.baseUrl().toString())
                .contentTypeHeader("application/json")
                .acceptHeader("text/event-stream")
                // Gatling drops SSE messages no check waits for unless it buffers them; every token
                // after the first is read from this buffer (with its receive time).
                .sseUnmatchedInboundMessageBufferSize(4 * settings.maxTokens() + 16);
        String key = settings.apiKey();
        return key == null || key.isEmpty() ? p : p.authorizationHeader("Bearer " + key);
    }

    public StreamingCompletionsSimulation() {
        // One stream first, outside the figures: class loading and connection set-up on both sides.
        PopulationBuilder chain = warmUp().injectOpen(atOnceUsers(1));
        for (int users : settings.levels()) {
            PopulationBuilder level = level(users).injectOpen(atOnceUsers(users));
            chain = chain.andThen(level);
        }
        long totalSeconds = settings.levelTimeLimit().toSeconds() * settings.levels().size();
        setUp(chain).protocols(protocol)
                .maxDuration(Duration.ofSeconds(totalSeconds))
                .assertions(global().failedRequests().percent().lte(Double.valueOf(System.getProperty("maxErrorPercent", "1"))));
    }

    private ScenarioBuilder warmUp() {
        return scenario("warm-up").exec(
                sse("warm-up").post("/v1/completions").body(StringBody(settings.body()))
                        .await(settings.tokenTimeout()).on(sse.checkMessage("warm-up [DONE]")
                                .matching(substring("[DONE]").exists()).check(substring("[DONE]").exists())),
                sse("warm-up close").close());
    }

    private ScenarioBuilder level(int users) {
        TokenTimings t = new TokenTimings(users);
        timings.add(t);
        String tag = users == 1 ? "1 user" : users + " users";
        long levelLimit = settings.levelTimeLimit().toMillis();
        long streamLimit = settings.tokenTimeout().toMillis() * (1 + settings.maxTokens());
        return scenario(tag)
                .exec(session -> session.set("levelStart", System.currentTimeMillis()))
                .repeat(settings.requestsPerUser()).on(
                        // Bounded in time as well as in count: no new stream once the level's time is up.
                        doIf(session -> System.currentTimeMillis() - session.getLong("levelStart") < levelLimit).then(
                                exec(session -> session.set("start", System.currentTimeMillis()).set("done", false)
                                        .set("tokens", 1L)),
                                exitBlockOnFail().on(
                                        exec(sse("stream (" + tag + ")").post("/v1/completions")
                                                .body(StringBody(session -> settings.body(streams.incrementAndGet())))
                                                .await(settings.tokenTimeout()).on(
                                                        sse.checkMessage("first token (" + tag + ")")
                                                                .check(substring("choices").exists()))),
                                        exec(session -> {
                                            long now = System.currentTimeMillis();
                                            t.firstToken(session.getLong("start"), now);
                                            return session.set("last", now);
                                        }),
                                        asLongAs(session -> !session.getBoolean("done")
                                                && System.currentTimeMillis() - session.getLong("start") < streamLimit).on(
                                                pause(Duration.ofMillis(5)),
                                                exec(sse.processUnmatchedMessages((messages, session) -> take(t, messages, session)))),
                                        exec(session -> {
                                            t.finished(session.getLong("tokens"), System.currentTimeMillis(),
                                                    session.getBoolean("done"));
                                            return session;
                                        }),
                                        // A stream that never ended with [DONE] counts as an error.
                                        doIf(session -> !session.getBoolean("done")).then(
                                                exec(sse("end (" + tag + ")").setCheck().await(Duration.ofSeconds(1)).on(
                                                        sse.checkMessage("[DONE] (" + tag + ")")
                                                                .matching(substring("[DONE]").exists())
                                                                .check(substring("[DONE]").exists()))))),
                                exec(sse("close (" + tag + ")").close()),
                                exec(Session::markAsSucceeded)));
    }

    /** Consumes SSE messages: counts token chunks, records the gaps between them, notes [DONE]. */
    private static Session take(TokenTimings t, List<SseInboundMessage> messages, Session session) {
        long last = session.getLong("last");
        long tokens = session.getLong("tokens");
        boolean done = false;
        for (SseInboundMessage m : messages) {
            String text = m.message();
            if (text.contains("[DONE]")) {
                done = true;
                continue;
            }
            if (!text.contains("choices") || text.contains("\\\"text\\\":\\\"\\\"")) continue; // usage or final empty chunk
            t.gap(m.timestamp() - last);
            last = m.timestamp();
            tokens++;
        }
        return session.set("last", last).set("tokens", tokens).set("done", done);
    }

    @Override
    public void after() {
        StringBuilder table = new StringBuilder("\nflashllm streaming completions (times in ms, client side)\n")
                .append(TokenTimings.header()).append('\n');
        StringBuilder json = new StringBuilder("[");
        for (TokenTimings t : timings) {
            table.append(t.row()).append('\n');
            if (json.length() > 1) json.append(",\n");
            json.append(t.json());
        }
        json.append("]\n");
        System.out.println(table);
        try {
            Path out = Path.of(System.getProperty("resultFile", "target/flashllm-loadtest.json"));
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, json);
            System.out.println("written " + out.toAbsolutePath());
        } catch (IOException e) {
            System.err.println("cannot write the result file: " + e);
        }
    }
}
