package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.engine.grammar.Grammar;
import io.flashllm.engine.grammar.GrammarException;
import io.flashllm.engine.grammar.GrammarMatcher;
import io.flashllm.engine.grammar.JsonSchemaGrammar;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The request fields that shape the output: OpenAI's {@code response_format} ({@code text},
 * {@code json_object}, {@code json_schema}) and {@code logit_bias}, and llama.cpp's {@code json_schema} and
 * {@code grammar} (GBNF). At most one of the grammar-making fields may be given; a schema or grammar that
 * cannot be followed is a 400 naming what is wrong.
 */
final class StructuredOutput {
    static final double MAX_BIAS = 100;

    private StructuredOutput() {}

    /** The grammar the output must follow, or null. */
    static Grammar grammar(JsonNode body) {
        JsonNode rf = Fields.get(body, "response_format");
        JsonNode schema = Fields.get(body, "json_schema");
        String gbnf = Fields.string(body, "grammar");
        String from = null;
        Grammar g = null;
        if (rf != null) {
            g = responseFormat(rf);
            if (g != null) from = "response_format";
        }
        if (schema != null) {
            requireOne(from, "json_schema");
            g = fromSchema(schema, "json_schema");
            from = "json_schema";
        }
        if (gbnf != null) {
            requireOne(from, "grammar");
            try {
                g = Grammar.parse(gbnf);
                // Where it starts is worked out now, so a grammar that cannot even start is a 400 before any stream.
                new GrammarMatcher(g);
            } catch (GrammarException e) {
                throw ApiError.invalid("grammar", "invalid_grammar", e.getMessage());
            }
        }
        return g;
    }

    private static void requireOne(String earlier, String now) {
        if (earlier != null) {
            throw ApiError.invalid(now, "'" + earlier + "' and '" + now + "' both constrain the output; give one");
        }
    }

    private static Grammar responseFormat(JsonNode rf) {
        if (!rf.isObject()) throw ApiError.invalid("response_format", "invalid_type", "'response_format' must be an object");
        String type = Fields.string(rf, "type");
        if (type == null) throw ApiError.invalid("response_format.type", "missing_field", "'response_format.type' is required");
        switch (type) {
            case "text":
                return null;
            case "json_object":
                return Grammar.parse(JsonSchemaGrammar.answerObject());
            case "json_schema": {
                JsonNode js = Fields.get(rf, "json_schema");
                if (js == null || !js.isObject()) {
                    throw ApiError.invalid("response_format.json_schema", "missing_field",
                            "'response_format.json_schema' must be an object with a 'schema'");
                }
                JsonNode schema = js.get("schema");
                // llama.cpp also takes the schema itself in place of OpenAI's wrapper object.
                if (schema == null) {
                    schema = js.has("name") ? null : js;
                }
                if (schema == null) {
                    throw ApiError.invalid("response_format.json_schema.schema", "missing_field",
                            "'response_format.json_schema.schema' is required");
                }
                return fromSchema(schema, "response_format.json_schema.schema");
            }
            default:
                throw ApiError.invalid("response_format.type", "'response_format.type' must be text, json_object or"
                        + " json_schema, got '" + type + "'");
        }
    }

    private static Grammar fromSchema(JsonNode schema, String param) {
        try {
            return Grammar.parse(JsonSchemaGrammar.answer(schema));
        } catch (GrammarException e) {
            throw ApiError.invalid(param, "invalid_schema", "The JSON schema cannot be followed: " + e.getMessage());
        }
    }

    /** {@code logit_bias}: token ids (as JSON object keys) to a value in [-100, 100] added to their logits. */
    static Map<Integer, Float> logitBias(JsonNode body) {
        JsonNode bias = Fields.get(body, "logit_bias");
        if (bias == null) return Map.of();
        if (!bias.isObject()) {
            throw ApiError.invalid("logit_bias", "invalid_type", "'logit_bias' must be an object of token ids to numbers");
        }
        Map<Integer, Float> out = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = bias.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException x) {
                throw ApiError.invalid("logit_bias", "'logit_bias' keys must be token ids, got '" + e.getKey() + "'");
            }
            if (id < 0) throw ApiError.invalid("logit_bias", "'logit_bias' keys must be token ids, got " + id);
            JsonNode v = e.getValue();
            if (!v.isNumber() || !(Math.abs(v.doubleValue()) <= MAX_BIAS)) {
                throw ApiError.invalid("logit_bias", "'logit_bias' values must be numbers from -100 to 100 (token "
                        + id + ")");
            }
            out.put(id, v.floatValue());
        }
        return out;
    }
}
