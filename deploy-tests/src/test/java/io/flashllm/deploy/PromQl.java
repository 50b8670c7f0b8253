package io.flashllm.deploy;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough PromQL for the dashboard checks: the metric names an expression reads, and Grafana's
 * variables replaced by values Prometheus accepts.
 */
final class PromQl {
    private PromQl() {}

    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan");
    private static final Pattern IDENT = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

    /** Metric names an expression selects (functions, keywords, labels and grouping lists excluded). */
    static Set<String> metricNames(String expr) {
        String s = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")   // string literals
                .replaceAll("\\{[^}]*}", " ")                              // label matchers
                .replaceAll("\\[[^]]*]", " ")                              // range and subquery windows
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
        Set<String> names = new LinkedHashSet<>();
        Matcher m = IDENT.matcher(s);
        while (m.find()) {
            String id = m.group();
            if (m.start() > 0 && Character.isDigit(s.charAt(m.start() - 1))) continue; // 5m, 1e3
            if (KEYWORDS.contains(id.toLowerCase(java.util.Locale.ROOT))) continue;
            int next = m.end();
            while (next < s.length() && Character.isWhitespace(s.charAt(next))) next++;
            if (next < s.length() && s.charAt(next) == '(') continue;                    // a function
            names.add(id);
        }
        return names;
    }

    /** Replaces $name and ${name} (longest names first, so $__range does not eat $__rate_interval). */
    static String substitute(String expr, Map<String, String> values) {
        String out = expr;
        for (String name : values.keySet().stream().sorted((a, b) -> b.length() - a.length()).toList()) {
            out = out.replace("${" + name + "}", values.get(name)).replace("$" + name, values.get(name));
        }
        return out;
    }

    /** Variables ($x or ${x}) an expression still refers to. */
    static Set<String> variables(String expr) {
        Set<String> vars = new LinkedHashSet<>();
        Matcher m = Pattern.compile("\\$\\{?([a-zA-Z_][a-zA-Z0-9_]*)").matcher(expr);
        while (m.find()) vars.add(m.group(1));
        return vars;
    }
}
