package io.flashllm.server.http;

import java.util.LinkedHashMap;
import java.util.Map;

/** Samples of a Prometheus text exposition, keyed by {@code name{labels}} exactly as written (no labels: the name). */
final class PrometheusText {
    private PrometheusText() {}

    static Map<String, Double> parse(String text) {
        Map<String, Double> samples = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            int cut = line.lastIndexOf(' ');
            String value = line.substring(cut + 1);
            double v = switch (value) {
                case "+Inf" -> Double.POSITIVE_INFINITY;
                case "-Inf" -> Double.NEGATIVE_INFINITY;
                case "NaN" -> Double.NaN;
                default -> Double.parseDouble(value);
            };
            if (samples.put(line.substring(0, cut), v) != null) throw new AssertionError("duplicate sample: " + line);
        }
        return samples;
    }
}
