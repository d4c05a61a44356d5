package cgap.gap.cli;

import cgap.kernels.JitWarmup;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code cgap} command line. Errors print as one line naming what is at fault; --debug adds the stack trace. */
@Command(name = "cgap", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Pure-Java transformer engine and convergence-gap diagnostic.",
        subcommands = {DemoCommand.class, StudyCommand.class, LensCommand.class, GraftCommand.class,
                InfoCommand.class, ForwardCommand.class, GenerateCommand.class, BenchCommand.class,
                TokenizeCommands.Tokenize.class, TokenizeCommands.Detokenize.class,
                TokenizeCommands.ChatTemplateCommand.class})
public final class Main implements Runnable {

    /**
     * Commands that run a model warm the kernels up first: a few calls at model sizes do not get the Vector API
     * code compiled soon enough, and interpreted it is thousands of times slower (end to end this doubled the
     * decode speed of a 1B model). Costs a few seconds.
     */
    static final java.util.Set<String> RUNS_MODELS = java.util.Set.of("demo", "study", "lens", "graft", "forward", "generate", "bench");

    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces on errors.")
    boolean debug;

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (1 for failures, 2 for usage errors). */
    public static int run(String... args) {
        boolean debug = java.util.Arrays.asList(args).contains("--debug");
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (debug) e.printStackTrace();
            else System.err.println("cgap " + cmd.getCommandName() + ": " + oneLine(e));
            return 1;
        });
        cli.setExecutionStrategy(parsed -> {
            if (parsed.subcommand() != null && RUNS_MODELS.contains(parsed.subcommand().commandSpec().name())
                    && !parsed.subcommand().isUsageHelpRequested()) {
                JitWarmup.run();
            }
            return new CommandLine.RunLast().execute(parsed);
        });
        return cli.execute(args);
    }

    static String oneLine(Throwable e) {
        String message = e.getMessage();
        if (message == null || message.isBlank()) message = e.getClass().getSimpleName();
        if (e instanceof OutOfMemoryError) message = "out of memory (" + message + "); raise -Xmx via CGAP_JAVA_OPTS";
        return message.replace('\n', ' ');
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"cgap " + (v == null ? "dev" : v)};
        }
    }
}
