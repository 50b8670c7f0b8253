package io.flashllm.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A Grafana dashboard JSON file: its panels (rows flattened), their queries and its variables. */
record Dashboard(Path file, JsonNode root) {

    /** One PromQL query of a panel. */
    record Query(String panel, String refId, String expr, boolean instant) {}

    static Dashboard load(Path file) throws IOException {
        return new Dashboard(file, new ObjectMapper().readTree(file.toFile()));
    }

    /** All panels, including those nested in collapsed rows. */
    List<JsonNode> panels() {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : root.path("panels")) {
            out.add(p);
            for (JsonNode inner : p.path("panels")) out.add(inner);
        }
        return out;
    }

    List<JsonNode> variables() {
        List<JsonNode> out = new ArrayList<>();
        root.path("templating").path("list").forEach(out::add);
        return out;
    }

    List<Query> queries() {
        List<Query> out = new ArrayList<>();
        for (JsonNode p : panels()) {
            for (JsonNode t : p.path("targets")) {
                out.add(new Query(p.path("title").asText(), t.path("refId").asText(), t.path("expr").asText(),
                        t.path("instant").asBoolean(false)));
            }
        }
        return out;
    }

    /** The text of a query variable's query (label_values(...)), or null for other kinds. */
    static String variableQuery(JsonNode variable) {
        if (!variable.path("type").asText().equals("query")) return null;
        JsonNode q = variable.path("query");
        if (q.isTextual()) return q.asText();
        if (q.isObject()) return q.path("query").asText(null);
        return null;
    }
}
