package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Structured output through a real server and the real engine (a tiny random-weight Llama, which
 * follows no format by itself): whatever it would have said, the answer is JSON valid against the
 * schema, or a sentence of the grammar, streamed and whole alike.
 */
class StructuredOutputTest {
    static final String SCHEMA = """
            {"type":"object","properties":{
               "mood":{"enum":["happy","sad",null]},
               "ok":{"type":"boolean"},
               "tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":2}},
             "required":["mood","ok","tags"]}""";

    @RegisterExtension
    static final TinyEngine tiny = new TinyEngine(2048, 2048, 1);

    private static String chat(String extra) {
        return "{\"messages\":[{\"role\":\"user\",\"content\":\"How are you?\"}],\"max_tokens\":200" + extra + "}";
    }

    private static void assertValid(JsonNode doc) {
        assertTrue(doc.isObject(), doc.toString());
        assertEquals(Set.of("mood", "ok", "tags"), fieldNames(doc), doc.toString());
        JsonNode mood = doc.get("mood");
        assertTrue(mood.isNull() || mood.asText().equals("happy") || mood.asText().equals("sad"), doc.toString());
        assertTrue(doc.get("ok").isBoolean(), doc.toString());
        JsonNode tags = doc.get("tags");
        assertTrue(tags.isArray() && tags.size() <= 2, doc.toString());
        for (JsonNode t : tags) assertTrue(t.asText().equals("a") || t.asText().equals("b"), doc.toString());
    }

    private static Set<String> fieldNames(JsonNode o) {
        Set<String> s = new HashSet<>();
        o.fieldNames().forEachRemaining(s::add);
        return s;
    }

    @Test
    void chatAnswersFollowTheJsonSchemaWholeAndStreamed() throws Exception {
        String rf = ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"status\",\"strict\":true,"
                + "\"schema\":" + SCHEMA + "}}";
        for (int seed = 1; seed <= 5; seed++) {
            HttpResponse<String> r = tiny.server().post("/v1/chat/completions", chat(rf + ",\"temperature\":1,\"seed\":" + seed));
            assertEquals(200, r.statusCode(), r.body());
            JsonNode choice = TestServer.json(r).get("choices").get(0);
            assertEquals("stop", choice.get("finish_reason").asText());
            assertValid(TestServer.JSON.readTree(choice.get("message").get("content").asText()));
        }
        String greedy = chat(rf + ",\"temperature\":0");
        String whole = TestServer.json(tiny.server().post("/v1/chat/completions", greedy)).get("choices").get(0)
                .get("message").get("content").asText();
        assertValid(TestServer.JSON.readTree(whole));
        HttpResponse<String> s = tiny.server().post("/v1/chat/completions", greedy.substring(0, greedy.length() - 1) + ",\"stream\":true}");
        StringBuilder streamed = new StringBuilder();
        for (SseParser.Event e : SseParser.parse(s.body())) {
            if (e.comment() != null || e.data().equals("[DONE]")) continue;
            JsonNode c = TestServer.JSON.readTree(e.data()).get("choices").get(0);
            JsonNode piece = c.get("delta").get("content");
            if (piece != null) streamed.append(piece.asText());
        }
        assertEquals(whole, streamed.toString());
    }

    @Test
    void llamaCppsJsonSchemaFieldWorksOnCompletionsToo() throws Exception {
        HttpResponse<String> r = tiny.server().post("/v1/completions", "{\"prompt\":\"Status:\",\"max_tokens\":200,\"seed\":3,"
                + "\"temperature\":0.8,\"json_schema\":" + SCHEMA + "}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode choice = TestServer.json(r).get("choices").get(0);
        assertEquals("stop", choice.get("finish_reason").asText());
        assertValid(TestServer.JSON.readTree(choice.get("text").asText()));
    }

    @Test
    void jsonObjectModeGivesAnObjectOrAnHonestCut() throws Exception {
        for (int seed = 1; seed <= 4; seed++) {
            HttpResponse<String> r = tiny.server().post("/v1/chat/completions",
                    chat(",\"response_format\":{\"type\":\"json_object\"},\"temperature\":1,\"seed\":" + seed));
            assertEquals(200, r.statusCode(), r.body());
            JsonNode choice = TestServer.json(r).get("choices").get(0);
            String text = choice.get("message").get("content").asText();
            assertTrue(text.startsWith("{") || text.startsWith(" {"), text);
            if (choice.get("finish_reason").asText().equals("stop")) {
                assertTrue(TestServer.JSON.readTree(text).isObject(), text);
            } else {
                // Cut by max_tokens: what there is must still be the start of an object.
                assertEquals("length", choice.get("finish_reason").asText());
                var m = new io.flashllm.engine.grammar.GrammarMatcher(io.flashllm.engine.grammar.Grammar.parse(
                        io.flashllm.engine.grammar.JsonSchemaGrammar.answerObject()));
                assertTrue(m.acceptText(text), text);
            }
        }
    }

    @Test
    void aGbnfGrammarShapesACompletion() throws Exception {
        String grammar = "root ::= (\"yes\" | \"no\") \", because \" [a-z ]{3,20} \".\"";
        HttpResponse<String> r = tiny.server().post("/v1/completions", "{\"prompt\":\"Answer:\",\"max_tokens\":60,\"temperature\":0,"
                + "\"grammar\":" + TestServer.JSON.writeValueAsString(grammar) + "}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode choice = TestServer.json(r).get("choices").get(0);
        String text = choice.get("text").asText();
        assertTrue(text.matches("(yes|no), because [a-z ]{3,20}\\."), text);
        assertEquals("stop", choice.get("finish_reason").asText());
    }

    static final String WEATHER = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
            + "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"enum\":[\"Paris\",\"Rome\"]},"
            + "\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":7}},\"required\":[\"city\",\"days\"]}}},"
            + "{\"type\":\"function\",\"function\":{\"name\":\"now\",\"parameters\":{\"type\":\"object\",\"properties\":{}}}}]";

    private static void assertWeatherCall(JsonNode call) throws Exception {
        assertEquals("function", call.get("type").asText());
        assertTrue(call.get("id").asText().startsWith("call_"), call.toString());
        assertEquals("get_weather", call.get("function").get("name").asText(), call.toString());
        JsonNode args = TestServer.JSON.readTree(call.get("function").get("arguments").asText());
        assertTrue(args.get("city").asText().matches("Paris|Rome"), args.toString());
        int days = args.get("days").asInt();
        assertTrue(days >= 1 && days <= 7, args.toString());
    }

    @Test
    void aRequiredToolIsCalledWithArgumentsValidAgainstItsSchema() throws Exception {
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}],\"max_tokens\":200,\"temperature\":0,"
                + WEATHER + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}";
        HttpResponse<String> r = tiny.server().post("/v1/chat/completions", body + "}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode choice = TestServer.json(r).get("choices").get(0);
        assertEquals("tool_calls", choice.get("finish_reason").asText(), choice.toString());
        assertTrue(choice.get("message").get("content").isNull(), choice.toString());
        JsonNode calls = choice.get("message").get("tool_calls");
        assertTrue(calls.size() >= 1, choice.toString());
        for (JsonNode c : calls) assertWeatherCall(c);

        // Streamed: no words, the calls in one chunk, then the finish reason; the same calls as above.
        HttpResponse<String> s = tiny.server().post("/v1/chat/completions", body + ",\"stream\":true}");
        JsonNode streamedCalls = null;
        String finish = null;
        for (SseParser.Event e : SseParser.parse(s.body())) {
            if (e.comment() != null || e.data().equals("[DONE]")) continue;
            JsonNode c = TestServer.JSON.readTree(e.data()).get("choices").get(0);
            JsonNode delta = c.get("delta");
            if (delta.has("content")) assertEquals("", delta.get("content").asText(), "only the role chunk's empty content");
            if (delta.has("tool_calls")) streamedCalls = delta.get("tool_calls");
            if (!c.get("finish_reason").isNull()) finish = c.get("finish_reason").asText();
        }
        assertEquals("tool_calls", finish);
        assertEquals(calls.size(), streamedCalls.size());
        for (int i = 0; i < calls.size(); i++) {
            assertEquals(i, streamedCalls.get(i).get("index").asInt());
            assertEquals(calls.get(i).get("function"), streamedCalls.get(i).get("function"));
        }
    }

    @Test
    void autoLetsTheModelAnswerOrCallAndResultsGoBackIn() throws Exception {
        for (int seed = 1; seed <= 3; seed++) {
            HttpResponse<String> r = tiny.server().post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
                    + "\"max_tokens\":40,\"temperature\":1,\"seed\":" + seed + "," + WEATHER + "}");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode choice = TestServer.json(r).get("choices").get(0);
            if (choice.get("finish_reason").asText().equals("tool_calls")) {
                for (JsonNode c : choice.get("message").get("tool_calls")) {
                    if (c.get("function").get("name").asText().equals("get_weather")) assertWeatherCall(c);
                }
            } else {
                assertTrue(choice.get("message").get("content").isTextual(), choice.toString());
            }
        }
        HttpResponse<String> next = tiny.server().post("/v1/chat/completions", "{\"max_tokens\":8," + WEATHER + ",\"messages\":["
                + "{\"role\":\"user\",\"content\":\"Weather in Rome?\"},"
                + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_9\",\"type\":\"function\","
                + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Rome\\\",\\\"days\\\":1}\"}}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"call_9\",\"content\":\"sunny, 24 C\"}]}");
        assertEquals(200, next.statusCode(), next.body());
    }

    @Test
    void aGrammarTooAmbiguousToFollowIsTheRequestsFaultAndTheSlotGoesOn() throws Exception {
        // 5,000 alternatives that all start alike: more ways to read the first character than the matcher follows.
        StringBuilder g = new StringBuilder("root ::= r0");
        for (int i = 1; i < 5000; i++) g.append(" | r").append(i);
        g.append('\n');
        for (int i = 0; i < 5000; i++) g.append("r").append(i).append(" ::= \"a\" \"").append(i).append("\"\n");
        // Streamed too: refused before the stream starts, with a status line that says so.
        HttpResponse<String> r = tiny.server().post("/v1/completions", "{\"prompt\":\"Go\",\"max_tokens\":30,\"temperature\":0,"
                + "\"stream\":true,\"grammar\":" + TestServer.JSON.writeValueAsString(g.toString()) + "}");
        assertEquals(400, r.statusCode(), r.body());
        JsonNode err = TestServer.json(r).get("error");
        assertEquals("invalid_grammar", err.get("code").asText());
        assertTrue(err.get("message").asText().contains("too ambiguous"), err.toString());
        HttpResponse<String> next = tiny.server().post("/v1/completions", "{\"prompt\":\"Go\",\"max_tokens\":3}");
        assertEquals(200, next.statusCode(), next.body());
    }

    @Test
    void aGrammarThatGrowsTooAmbiguousWhileFollowedEndsTheStreamWithAnError() throws Exception {
        // After n x's there are 2^n ways to close them; a bias makes the model write x after x.
        int x = -1;
        for (int id = 0; id < 512 && x < 0; id++) {
            HttpResponse<String> d = tiny.server().post("/detokenize", "{\"tokens\":[" + id + "]}");
            if (TestServer.json(d).get("content").asText().equals("x")) x = id;
        }
        assertTrue(x >= 0, "the vocabulary has an 'x' piece");
        String grammar = "root ::= a\na ::= \"x\" a \"y\" | \"x\" a \"z\" | \"\"";
        HttpResponse<String> r = tiny.server().post("/v1/completions", "{\"prompt\":\"Go\",\"max_tokens\":40,\"temperature\":0,"
                + "\"stream\":true,\"logit_bias\":{\"" + x + "\":100},\"grammar\":" + TestServer.JSON.writeValueAsString(grammar) + "}");
        assertEquals(200, r.statusCode(), "the stream had begun");
        List<SseParser.Event> events = SseParser.parse(r.body());
        JsonNode last = TestServer.JSON.readTree(events.getLast().data());
        assertEquals("invalid_grammar", last.get("error").get("code").asText(), r.body());
        assertTrue(last.get("error").get("message").asText().contains("too ambiguous"), r.body());
        assertEquals(200, tiny.server().post("/v1/completions", "{\"prompt\":\"Go\",\"max_tokens\":3}").statusCode(), "the slot goes on");
    }

    @Test
    void logitBiasForcesAndBansTokens() throws Exception {
        String base = "{\"prompt\":\"Once upon a time\",\"max_tokens\":4,\"temperature\":0";
        String p300 = TestServer.json(tiny.server().post("/detokenize", "{\"tokens\":[300]}")).get("content").asText();
        String p301 = TestServer.json(tiny.server().post("/detokenize", "{\"tokens\":[301]}")).get("content").asText();
        HttpResponse<String> forced = tiny.server().post("/v1/completions", base + ",\"logit_bias\":{\"300\":100}}");
        assertEquals(200, forced.statusCode(), forced.body());
        assertEquals(p300.repeat(4), TestServer.json(forced).get("choices").get(0).get("text").asText());
        // Both raised alike: the model's own preference decides which comes first. Banning that one leaves the other.
        String both = TestServer.json(tiny.server().post("/v1/completions", base + ",\"logit_bias\":{\"300\":50,\"301\":50}}"))
                .get("choices").get(0).get("text").asText();
        boolean first300 = both.startsWith(p300);
        assertTrue(first300 || both.startsWith(p301), both);
        String ban = first300 ? "{\"300\":-100,\"301\":50}" : "{\"300\":50,\"301\":-100}";
        HttpResponse<String> banned = tiny.server().post("/v1/completions", base + ",\"logit_bias\":" + ban + "}");
        assertEquals(200, banned.statusCode(), banned.body());
        assertEquals((first300 ? p301 : p300).repeat(4), TestServer.json(banned).get("choices").get(0).get("text").asText());
    }
}
