package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.server.config.Setting;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Which slot a request lands on: a conversation's next turn goes back to the slot whose KV cache
 * holds its history, a new conversation to the slot idle the longest. Seen from outside through
 * usage.prompt_tokens_details.cached_tokens (FakeModel's sessions cache as real ones do: the last
 * prompt and reply) and the flashllm_prompt_cached_tokens_total counter.
 */
class SlotChoiceTest {
    /** One completion; returns {text, cached_tokens, prompt_tokens}. */
    private static Object[] complete(TestServer ts, String prompt) throws Exception {
        HttpResponse<String> r = ts.post("/v1/completions",
                "{\"prompt\":" + TestServer.JSON.writeValueAsString(prompt) + ",\"max_tokens\":8}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode j = TestServer.json(r);
        JsonNode usage = j.get("usage");
        return new Object[] {j.get("choices").get(0).get("text").asText(),
                usage.get("prompt_tokens_details").get("cached_tokens").asInt(), usage.get("prompt_tokens").asInt()};
    }

    @Test
    void eachConversationReturnsToTheSlotThatHoldsItsHistory() throws Exception {
        FakeModel model = new FakeModel(0, 0, 512);
        try (TestServer ts = new TestServer(model, Map.of(Setting.PARALLEL, 3))) {
            String[] turn = {"Alice asks about the sea and its tides.", "Bob wants a recipe for bread.",
                "Carol is planning a trip to the mountains."};
            String[] reply = new String[3];
            for (int c = 0; c < 3; c++) {
                Object[] r = complete(ts, turn[c]);
                assertEquals(0, r[1], "a new conversation on a fresh slot");
                reply[c] = (String) r[0];
            }
            // Each conversation again, its history (prompt and reply) and a new turn, in another order:
            // every one finds its history cached, BOS and all (the tokenizer gives one token per byte).
            long cachedSum = 0;
            for (int c : new int[] {1, 0, 2}) {
                String history = turn[c] + reply[c];
                Object[] r = complete(ts, history + " And then?");
                assertEquals(1 + history.length(), r[1], "conversation " + c);
                cachedSum += (int) r[1];
                turn[c] = history + " And then?";
                reply[c] = (String) r[0];
            }
            // A new conversation takes the slot idle the longest (conversation 1's, the first asked
            // again above) and leaves the other two caches alone.
            Object[] fresh = complete(ts, "Dave has a question about taxes.");
            assertTrue((int) fresh[1] <= 1, "only BOS in common: " + fresh[1]);
            for (int c : new int[] {0, 2}) {
                Object[] r = complete(ts, turn[c] + reply[c] + " More.");
                assertEquals(1 + turn[c].length() + reply[c].length(), r[1], "conversation " + c);
                cachedSum += (int) r[1];
            }
            Object[] evicted = complete(ts, turn[1] + reply[1] + " More.");
            assertTrue((int) evicted[1] < turn[1].length() / 2, "conversation 1's cache went to Dave: " + evicted[1]);
            cachedSum += (int) evicted[1] + (int) fresh[1];
            String text = ts.metrics.scrape();
            assertTrue(text.contains("flashllm_prompt_cached_tokens_total " + cachedSum + ".0"), text);
        }
    }

    @Test
    void aNewConversationWithTheSameSystemPromptLeavesTheOthersAlone() throws Exception {
        FakeModel model = new FakeModel(0, 0, 1024);
        try (TestServer ts = new TestServer(model, Map.of(Setting.PARALLEL, 2))) {
            String system = "You are a patient assistant who answers in full sentences and cites sources. ";
            String alice = system + "Alice: why is the sea salty?";
            Object[] a = complete(ts, alice);
            // Most of Bob's prompt is Alice's system prompt, but it does not continue her request:
            // it takes the other slot, and Alice's next turn still finds her whole history.
            String bob = system + "Bob: how do I bake bread?";
            Object[] b = complete(ts, bob);
            assertEquals(0, b[1], "Bob on the fresh slot");
            String alice2 = alice + a[0] + " And why not the rivers?";
            Object[] a2 = complete(ts, alice2);
            assertEquals(1 + alice.length() + ((String) a[0]).length(), a2[1]);
            // Carol takes the slot idle the longest, Bob's, and reuses the system prompt it holds.
            Object[] c = complete(ts, system + "Carol: what is a comet?");
            assertEquals(1 + system.length(), c[1]);
            Object[] a3 = complete(ts, alice2 + a2[0] + " Thanks.");
            assertEquals(1 + alice2.length() + ((String) a2[0]).length(), a3[1]);
        }
    }

    @Test
    void theSamePromptAgainRunsOnlyItsLastToken() throws Exception {
        FakeModel model = new FakeModel(0, 0, 512);
        try (TestServer ts = new TestServer(model, Map.of(Setting.PARALLEL, 2))) {
            String prompt = "Summarize the following paragraph about flash memory.";
            complete(ts, "Something else entirely, to occupy a slot.");
            Object[] first = complete(ts, prompt);
            assertEquals(0, first[1]);
            for (int i = 0; i < 3; i++) {
                Object[] again = complete(ts, prompt);
                assertEquals((int) again[2] - 1, again[1]);
            }
        }
    }

    private static final String GO_ON = " Go on.";

    @Test
    void concurrentConversationsKeepTheirSlots() throws Exception {
        // Two conversations at once on two slots, three rounds: every later round finds its history,
        // whichever slot thread wakes first.
        FakeModel model = new FakeModel(100_000, 2, 512);
        try (TestServer ts = new TestServer(model, Map.of(Setting.PARALLEL, 2))) {
            String[] history = {"First user: tell me a story about a lighthouse.", "Second user: explain rainbows."};
            for (int round = 0; round < 3; round++) {
                List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
                for (String h : history) {
                    HttpRequest req = ts.request("/v1/completions").header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":" + TestServer.JSON.writeValueAsString(h)
                                    + ",\"max_tokens\":8}")).build();
                    futures.add(ts.client.sendAsync(req, HttpResponse.BodyHandlers.ofString()));
                }
                for (int c = 0; c < 2; c++) {
                    HttpResponse<String> r = futures.get(c).get(30, TimeUnit.SECONDS);
                    assertEquals(200, r.statusCode(), r.body());
                    JsonNode j = TestServer.json(r);
                    // Round 0 on fresh slots; later, all but the new turn: BOS, the last prompt and its reply.
                    int expected = round == 0 ? 0 : 1 + history[c].length() - GO_ON.length();
                    assertEquals(expected, j.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt(),
                            "round " + round + ", conversation " + c);
                    history[c] = history[c] + j.get("choices").get(0).get("text").asText() + GO_ON;
                }
            }
        }
    }
}
