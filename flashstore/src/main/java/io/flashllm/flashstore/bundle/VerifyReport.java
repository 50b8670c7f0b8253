package io.flashllm.flashstore.bundle;

import java.nio.file.Path;
import java.util.List;

/** The outcome of {@code flashllm verify}: every fault found (empty when the bundle is intact). */
public record VerifyReport(Path dir, int files, int sections, long groups, long bytes, List<String> faults) {
    public VerifyReport {
        faults = List.copyOf(faults);
    }

    public boolean ok() {
        return faults.isEmpty();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append(ok() ? "OK " : "DAMAGED ").append(dir).append(": ").append(files).append(" files, ").append(sections)
                .append(" sections, ").append(groups).append(" neuron groups, ").append(bytes).append(" bytes checked");
        for (String f : faults) sb.append("\n  ").append(f);
        return sb.toString();
    }
}
