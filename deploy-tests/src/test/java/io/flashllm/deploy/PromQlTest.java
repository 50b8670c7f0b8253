package io.flashllm.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PromQlTest {
    @Test
    void metricNamesSkipFunctionsLabelsGroupingAndWindows() {
        assertEquals(Set.of("a_bucket"),
                PromQl.metricNames("histogram_quantile(0.99, sum by (le) (rate(a_bucket{instance=~\"$i\", x=\"y{z}\"}[5m])))"));
        assertEquals(Set.of("hits_total", "lookups_total"),
                PromQl.metricNames("sum by (layer) (increase(hits_total[$__range])) / sum without (job) (increase(lookups_total[1h]))"));
        assertEquals(Set.of("up"), PromQl.metricNames("up == bool 1 and on (instance) up offset 5m"));
        assertEquals(Set.of("x"), PromQl.metricNames("x * 1e3 + inf"));
    }

    @Test
    void substituteReplacesLongestNamesFirstInBothSpellings() {
        assertEquals("rate(a[1m]) + increase(b[5m]) + c{l=~\".+\"}",
                PromQl.substitute("rate(a[$__rate_interval]) + increase(b[${__range}]) + c{l=~\"$layer\"}",
                        Map.of("__rate_interval", "1m", "__range", "5m", "layer", ".+")));
    }

    @Test
    void variablesFindsBothSpellings() {
        assertEquals(Set.of("a", "b_c"), PromQl.variables("x{l=\"$a\"}[${b_c}]"));
    }
}
