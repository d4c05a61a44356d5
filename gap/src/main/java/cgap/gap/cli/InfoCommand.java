package cgap.gap.cli;

import cgap.engine.runtime.Transformer;
import cgap.kernels.Parallel;
import cgap.models.DecoderSpec;
import cgap.models.Model;
import jdk.incubator.vector.FloatVector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code cgap info}: the runtime (and with --model, a model's shape and what a run of it needs). */
@Command(name = "info", description = "Print the runtime (JDK, Vector API, threads) or, with --model, a model's shape.")
final class InfoCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR", description = "A Hugging Face model directory.")
    Path model;

    @Override
    public Integer call() {
        if (model == null) {
            printRuntime();
            return 0;
        }
        try (Model m = Model.load(model)) {
            printModel(m);
        }
        return 0;
    }

    static void printRuntime() {
        System.out.println(new Main.Version().getVersion()[0]);
        System.out.println("JDK:        " + System.getProperty("java.vm.name") + " " + Runtime.version()
                + " (" + System.getProperty("java.home") + ")");
        System.out.println("Vector API: " + FloatVector.SPECIES_PREFERRED + " (" + FloatVector.SPECIES_PREFERRED.length() + " floats per vector)");
        System.out.println("Threads:    " + Parallel.threads() + " (set -Dcgap.threads=N via CGAP_JAVA_OPTS)");
        String problem = vectorApiProblem();
        if (problem != null) {
            System.out.println();
            System.out.println("WARNING: the Vector API is NOT running at full speed: " + problem);
            System.out.println("WARNING: every kernel will be many times slower. Run on a HotSpot JDK 25 with C2 (the default server VM).");
        }
    }

    /** Why vector code would not be compiled to SIMD instructions here, or null when it will be. */
    static String vectorApiProblem() {
        var compiler = ManagementFactory.getCompilationMXBean();
        if (compiler == null) return "no JIT compiler (interpreter only)";
        if (!compiler.getName().contains("C2") && !compiler.getName().toLowerCase(Locale.ROOT).contains("tiered")) {
            return "JIT is " + compiler.getName() + ", not C2";
        }
        var args = ManagementFactory.getRuntimeMXBean().getInputArguments();
        for (String a : args) {
            if (a.equals("-Xint")) return "-Xint (interpreter only)";
            if (a.startsWith("-XX:TieredStopAtLevel=") && !a.endsWith("=4")) return a + " stops before C2";
            if (a.equals("-XX:-UseCompiler")) return a;
        }
        if (FloatVector.SPECIES_PREFERRED.length() < 4) return "this CPU has no usable SIMD width (preferred species " + FloatVector.SPECIES_PREFERRED + ")";
        return null;
    }

    static void printModel(Model m) {
        DecoderSpec s = m.spec();
        Transformer t = m.transformer();
        long params = 0;
        for (String name : m.checkpoint().names()) params += m.checkpoint().tensor(name).numel();
        long weightBytes = m.checkpoint().totalBytes();
        long kvPerToken = t.newCache().bytesPerPosition();
        var storedDtypes = new java.util.TreeSet<String>();
        for (String name : m.checkpoint().names()) storedDtypes.add(m.checkpoint().tensor(name).dtype().name());
        System.out.println("Model:          " + m.dir());
        System.out.println("Architecture:   " + s.architecture() + " (family " + s.family() + ")");
        System.out.println("Layers:         " + s.layers());
        System.out.println("Hidden:         " + s.hidden() + ", MLP " + s.intermediate() + ", vocab " + s.vocab());
        System.out.println("Attention:      " + s.heads() + " heads, " + s.kvHeads() + " kv heads, head dim " + s.headDim()
                + (Arrays.stream(s.window()).anyMatch(w -> w > 0) ? ", sliding windows " + Arrays.toString(s.window()) : ""));
        System.out.println("Weights dtype:  " + s.dtype() + " (config), stored as " + String.join(", ", storedDtypes));
        System.out.printf(Locale.ROOT, "Parameters:     %,d%n", params);
        System.out.printf(Locale.ROOT, "Memory:         %s of mapped weights (paged in on use) + %s KV cache per 1k tokens%n",
                human(weightBytes), human(kvPerToken * 1000));
    }

    static String human(long bytes) {
        if (bytes >= 1L << 30) return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
        if (bytes >= 1L << 20) return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }
}
