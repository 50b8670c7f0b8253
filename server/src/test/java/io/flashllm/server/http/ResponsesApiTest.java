package io.flashllm.server.http;

import static io.flashllm.server.http.TestServer.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * OpenAI's Responses API (POST /v1/responses) on a real server over the real engine: each answer
 * against the chat endpoint's answer to the same conversation, and the stream's events against the
 * whole answer. (CI's client check runs the official openai client's responses calls too.)
 */
class ResponsesApiTest {
    static final String WEATHER_TOOL = "{\"type\":\"function\",\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\","
            + "\"properties\":{\"city\":{\"type\":\"string\",\"enum\":[\"Paris\",\"Rome\"]}},\"required\":[\"city\"]}}";

    @RegisterExtension
    static final TinyEngine tiny = new TinyEngine(2048, 1024, 1);

    /** The stream's events: each event line's type must match its data's type. */
    static List<JsonNode> events(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        List<JsonNode> out = new ArrayList<>();
        String type = null;
        for (String line : r.body().split("\n")) {
            if (line.startsWith("event: ")) {
                type = line.substring(7);
            } else if (line.startsWith("data: ")) {
                JsonNode e = TestServer.JSON.readTree(line.substring(6));
                assertEquals(type, e.get("type").asText(), "event line and data agree");
                assertEquals(out.size(), e.get("sequence_number").asInt(), "sequence numbers run 0, 1, 2, ...");
                out.add(e);
                type = null;
            }
        }
        return out;
    }

    static String text(JsonNode response) {
        StringBuilder b = new StringBuilder();
        for (JsonNode item : response.get("output")) {
            if (!item.get("type").asText().equals("message")) continue;
            for (JsonNode part : item.get("content")) b.append(part.get("text").asText());
        }
        return b.toString();
    }

    @Test
    void aResponseAnswersAsTheChatEndpointDoes() throws Exception {
        JsonNode r = ok(tiny.server().post("/v1/responses", "{\"model\":\"tiny-llama\",\"instructions\":\"Be brief.\",\"input\":\"Hi\","
                + "\"max_output_tokens\":10,\"temperature\":0}"));
        JsonNode chat = ok(tiny.server().post("/v1/chat/completions", "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                + "{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":10,\"temperature\":0}"));
        assertEquals("response", r.get("object").asText());
        assertTrue(r.get("id").asText().startsWith("resp_"));
        assertEquals("tiny-llama", r.get("model").asText());
        JsonNode message = r.get("output").get(0);
        assertEquals("message", message.get("type").asText());
        assertEquals("assistant", message.get("role").asText());
        assertEquals("output_text", message.get("content").get(0).get("type").asText());
        assertEquals(chat.get("choices").get(0).get("message").get("content").asText(), text(r));
        boolean full = chat.get("choices").get(0).get("finish_reason").asText().equals("length");
        assertEquals(full ? "incomplete" : "completed", r.get("status").asText());
        if (full) assertEquals("max_output_tokens", r.get("incomplete_details").get("reason").asText());
        JsonNode usage = r.get("usage");
        assertEquals(chat.get("usage").get("prompt_tokens").asInt(), usage.get("input_tokens").asInt());
        assertEquals(chat.get("usage").get("completion_tokens").asInt(), usage.get("output_tokens").asInt());
        assertEquals(usage.get("input_tokens").asInt() + usage.get("output_tokens").asInt(), usage.get("total_tokens").asInt());
        assertEquals("Be brief.", r.get("instructions").asText());
    }

    @Test
    void theStreamsEventsBuildTheSameText() throws Exception {
        String body = "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"Once upon\"}]}],"
                + "\"max_output_tokens\":3,\"temperature\":0";
        JsonNode whole = ok(tiny.server().post("/v1/responses", body + "}"));
        assertEquals("incomplete", whole.get("status").asText(), "3 tokens cut it");
        List<JsonNode> ev = events(tiny.server().post("/v1/responses", body + ",\"stream\":true}"));
        List<String> types = ev.stream().map(e -> e.get("type").asText()).toList();
        assertEquals(List.of("response.created", "response.in_progress", "response.output_item.added",
                "response.content_part.added"), types.subList(0, 4));
        assertEquals(List.of("response.output_text.done", "response.content_part.done", "response.output_item.done",
                "response.incomplete"), types.subList(types.size() - 4, types.size()));
        StringBuilder deltas = new StringBuilder();
        for (JsonNode e : ev) if (e.get("type").asText().equals("response.output_text.delta")) deltas.append(e.get("delta").asText());
        assertEquals(text(whole), deltas.toString());
        assertEquals(text(whole), ev.get(types.size() - 4).get("text").asText());
        assertEquals("in_progress", ev.get(0).get("response").get("status").asText());
        JsonNode last = ev.getLast().get("response");
        assertEquals(text(whole), text(last));
        assertEquals(whole.get("usage").get("input_tokens"), last.get("usage").get("input_tokens"));
        assertEquals(whole.get("usage").get("output_tokens"), last.get("usage").get("output_tokens"));
        // The same prompt again: the slot held all of it but its last token.
        assertEquals(whole.get("usage").get("input_tokens").asInt() - 1,
                last.get("usage").get("input_tokens_details").get("cached_tokens").asInt());
    }

    @Test
    void aSchemaHoldsTheText() throws Exception {
        JsonNode r = ok(tiny.server().post("/v1/responses", "{\"input\":\"A pet?\",\"max_output_tokens\":300,\"temperature\":0,"
                + "\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"pet\",\"schema\":{\"type\":\"object\","
                + "\"properties\":{\"legs\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":8}},\"required\":[\"legs\"]}}}}"));
        JsonNode doc = TestServer.JSON.readTree(text(r));
        assertTrue(doc.get("legs").asInt() >= 0 && doc.get("legs").asInt() <= 8, doc.toString());
        assertEquals("json_schema", r.get("text").get("format").get("type").asText());
    }

    @Test
    void functionCallsWholeAndStreamedAndTheirResults() throws Exception {
        String ask = "{\"input\":\"Weather in Rome?\",\"tools\":[" + WEATHER_TOOL + "],\"tool_choice\":\"required\","
                + "\"parallel_tool_calls\":false,\"max_output_tokens\":300,\"temperature\":0";
        JsonNode r = ok(tiny.server().post("/v1/responses", ask + "}"));
        JsonNode call = null;
        for (JsonNode item : r.get("output")) if (item.get("type").asText().equals("function_call")) call = item;
        assertTrue(call != null, r.toString());
        assertEquals("get_weather", call.get("name").asText());
        assertTrue(call.get("call_id").asText().startsWith("call_"));
        assertEquals("completed", r.get("status").asText());
        String city = TestServer.JSON.readTree(call.get("arguments").asText()).get("city").asText();
        assertTrue(city.equals("Paris") || city.equals("Rome"), city);

        List<JsonNode> ev = events(tiny.server().post("/v1/responses", ask + ",\"stream\":true}"));
        List<String> types = ev.stream().map(e -> e.get("type").asText()).toList();
        assertTrue(types.contains("response.function_call_arguments.delta"), types.toString());
        JsonNode done = null;
        for (JsonNode e : ev) {
            if (e.get("type").asText().equals("response.output_item.done") && e.get("item").get("type").asText().equals("function_call")) {
                done = e.get("item");
            }
        }
        assertTrue(done != null, types.toString());
        assertEquals(call.get("arguments"), done.get("arguments"), "greedy: the same call streamed");
        assertEquals("response.completed", types.getLast());

        // The call and its result sent back as input items.
        JsonNode next = ok(tiny.server().post("/v1/responses", "{\"input\":[{\"role\":\"user\",\"content\":\"Weather in Rome?\"},"
                + TestServer.JSON.writeValueAsString(call) + ",{\"type\":\"function_call_output\",\"call_id\":"
                + TestServer.JSON.writeValueAsString(call.get("call_id").asText()) + ",\"output\":\"sunny\"}],"
                + "\"tools\":[" + WEATHER_TOOL + "],\"tool_choice\":\"none\",\"max_output_tokens\":5,\"temperature\":0}"));
        assertEquals("message", next.get("output").get(0).get("type").asText());
    }

    @Test
    void whatItCannotDoIsRefused() throws Exception {
        String[][] cases = {
                {"{}", "'input' is required"},
                {"{\"input\":\"x\",\"previous_response_id\":\"resp_1\"}",
                        "'previous_response_id' is not supported: this server keeps no responses; send the whole conversation as 'input'"},
                {"{\"input\":\"x\",\"background\":true}", "background responses are not supported"},
                {"{\"input\":\"x\",\"tools\":[{\"type\":\"web_search\"}]}", "only function tools are supported; not 'web_search'"},
                {"{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\",\"image_url\":\"x\"}]}]}",
                        "Only text content parts are supported (input_text, output_text)"},
                {"{\"input\":[{\"type\":\"file_search_call\"}]}", "input items of type 'file_search_call' are not supported"},
                {"{\"input\":[{\"type\":\"function_call\",\"name\":\"f\",\"arguments\":\"{}\"}]}", "'input[0].call_id' is required"},
                {"{\"input\":42}", "'input' must be a string or an array of items"},
                {"{\"input\":\"x\",\"model\":\"gpt-5\"}", "The model 'gpt-5' does not exist"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = tiny.server().post("/v1/responses", c[0]);
            assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
            assertEquals(c[1], TestServer.json(r).get("error").get("message").asText(), c[0]);
        }
    }
}
