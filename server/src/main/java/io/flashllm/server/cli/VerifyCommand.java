package io.flashllm.server.cli;

import io.flashllm.flashstore.bundle.Verifier;
import io.flashllm.flashstore.bundle.VerifyReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code flashllm verify DIR}: checks every checksum of a flash bundle (each section's CRC32C and
 * each file's SHA-256 against the manifest) and lists every fault, not just the first.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Check a flash bundle against its manifest: version, every file's SHA-256 and every",
                "section's checksum. Exit status 0 when intact, 1 when damaged (each fault is listed)."})
public final class VerifyCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "Flash bundle directory (made by 'flashllm convert').")
    Path dir;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (!Files.isDirectory(dir)) throw new CliErrors.UsageException("not a bundle directory: " + dir);
        VerifyReport report = Verifier.verify(dir);
        if (report.ok()) {
            spec.commandLine().getOut().println(report);
            return 0;
        }
        spec.commandLine().getErr().println(report);
        return Main.EXIT_FAILURE;
    }
}
