package io.flashllm.flashstore.bundle;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code flashllm verify}: checks a bundle completely, the manifest's version and every file's
 * size, SHA-256 and section CRC32Cs, plus each FFN file's header and every neuron group against
 * its CRC table; lists every fault instead of stopping at the first.
 */
public final class Verifier {
    private Verifier() {}

    public static VerifyReport verify(Path dir) {
        List<String> faults = new ArrayList<>();
        Manifest m;
        try {
            m = Manifest.read(dir);
        } catch (BundleException e) {
            return new VerifyReport(dir, 0, 0, 0, 0, List.of(e.getMessage()));
        }
        int files = 0;
        int sections = 0;
        long groups = 0;
        long bytes = 0;
        for (Manifest.FileEntry e : m.files()) {
            files++;
            if (!BundleFiles.checkPresence(dir, e, f -> faults.add(f.getMessage()))) continue;
            Path f = dir.resolve(e.path());
            try {
                String sha = Checksums.sha256(f);
                if (!sha.equalsIgnoreCase(e.sha256())) faults.add(f + ": SHA-256 mismatch (expected " + e.sha256() + ", found " + sha + ")");
            } catch (IOException ex) {
                faults.add(f + ": cannot be read: " + ex.getMessage());
                continue;
            }
            bytes += e.bytes();
            BundleFiles.checkSections(dir, e, null, x -> faults.add(x.getMessage()));
            sections += e.sections().size();
            if (m.layout().layerFiles().contains(e.path())) {
                // The group CRCs pinpoint which neurons are damaged.
                try (FfnFile ffn = FfnFile.open(f, false)) {
                    groups += ffn.checkAllGroups(x -> faults.add(x.getMessage()));
                } catch (BundleException ex) {
                    faults.add(ex.getMessage());
                } catch (IOException ex) {
                    faults.add(f + ": " + ex.getMessage());
                }
            }
        }
        return new VerifyReport(dir, files, sections, groups, bytes, faults);
    }
}
