package io.flashllm.server.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * The {@code flashllm} command. Errors end the process with a non-zero status and one line,
 * {@code flashllm: <message>}, on standard error; {@code --verbose} adds the stack trace.
 * Exit status: 0 success, 1 failure while running, 2 bad command line.
 */
@Command(name = "flashllm", mixinStandardHelpOptions = true, versionProvider = VersionInfo.class,
        description = "Run large language models on machines whose memory is smaller than the model.",
        subcommands = {GenerateCommand.class, EmbedCommand.class, BenchCommand.class, SynthCommand.class, ConvertCommand.class, VerifyCommand.class,
                CalibrateCommand.class, PerplexityCommand.class,
                DemoCommand.class})
public final class Main implements Callable<Integer> {
    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces with errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Without a subcommand: say what there is. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return EXIT_USAGE;
    }

    public static void main(String[] args) {
        // One line per log record (the JDK default spreads each over two); set before any logger exists.
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tF %1$tT %4$s %3$s: %5$s%6$s%n");
        }
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        int code = run(args, out, System.err);
        out.flush();
        System.exit(code);
    }

    /** Runs the command line in this process (tests call this) and returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        PrintWriter o = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true);
        PrintWriter e = new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        boolean verbose = Arrays.asList(args).contains("--verbose");
        CommandLine cl;
        try {
            cl = commandLine();
        } catch (RuntimeException ex) {
            e.println("flashllm: " + CliErrors.message(ex));
            if (verbose) ex.printStackTrace(e);
            e.flush();
            return EXIT_FAILURE;
        }
        cl.setOut(o);
        cl.setErr(e);
        cl.setParameterExceptionHandler((ex, a) -> {
            e.println("flashllm: " + CliErrors.oneLine(ex.getMessage())
                    + " (see '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            if (verbose) ex.printStackTrace(e);
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            e.println("flashllm: " + CliErrors.message(ex));
            if (verbose) ex.printStackTrace(e);
            return ex instanceof CliErrors.UsageException ? EXIT_USAGE : EXIT_FAILURE;
        });
        try {
            return cl.execute(args);
        } finally {
            o.flush();
            e.flush();
        }
    }

    /**
     * The command tree. {@code serve} comes from the HTTP server package when it is in the build;
     * it is looked up by name so the CLI does not depend on the server's classes.
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        Object serve = optionalCommand("io.flashllm.server.http.ServeCommand");
        if (serve != null) cl.addSubcommand("serve", serve);
        cl.addSubcommand("help", new CommandLine.HelpCommand());
        return cl;
    }

    private static Object optionalCommand(String className) {
        try {
            return Class.forName(className).getConstructor().newInstance();
        } catch (ClassNotFoundException e) {
            return null;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create the " + className + " command: " + e, e);
        }
    }
}
