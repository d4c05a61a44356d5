package cgap.gap.cli;

import cgap.gap.study.StudyOptions;
import cgap.gap.study.StudyRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code cgap demo}: the whole study on the small PT/IT pair shipped inside the jar, offline. The pair is
 * extracted once to a cache directory named by its content hash (weights are memory-mapped, so they must be
 * files), then the study runs and the headline table is printed.
 */
@Command(name = "demo", description = {
        "Run the whole convergence-gap study on the embedded demo PT/IT pair (no network) and print the headline table."})
public final class DemoCommand implements Callable<Integer> {
    static final String RESOURCES = "/cgap/demo/";
    static final List<String> MODEL_FILES = List.of("config.json", "model.safetensors", "tokenizer.json",
            "tokenizer_config.json", "generation_config.json");

    @Option(names = "--out", defaultValue = "cgap-demo-out", paramLabel = "DIR", description = "Output directory (default ${DEFAULT-VALUE}).") Path out;
    @Option(names = "--max-new-tokens", defaultValue = "24", paramLabel = "N", description = "Greedy tokens per prompt and model (default ${DEFAULT-VALUE}).") int maxNewTokens;
    @Option(names = "--limit", defaultValue = "0", paramLabel = "K", description = "Only the first K prompts (default: all).") int limit;
    @Option(names = "--seed", defaultValue = "0", paramLabel = "S") long seed;
    @Option(names = "--cache", paramLabel = "DIR", description = "Where the demo pair is extracted (default ~/.cache/cgap/demo).") Path cache;

    @Override
    public Integer call() {
        Path root = cache != null ? cache : Path.of(System.getProperty("user.home"), ".cache", "cgap", "demo");
        Path pair = extract(root);
        long start = System.nanoTime();
        StudyOptions options = new StudyOptions(pair.resolve("pt"), pair.resolve("it"), pair.resolve("prompts.jsonl"), out,
                maxNewTokens, limit, seed, "B", "A", 1000, true);
        StudyRunner.Result result = new StudyRunner(options, System.out, (id, done, total) -> {}).run();
        System.out.println();
        System.out.println(result.headlineTable());
        System.out.printf(Locale.ROOT, "%d prompts, %d step records, %.1f s. Report: %s%n", result.prompts(), result.steps(),
                (System.nanoTime() - start) / 1e9, out.resolve("report.html"));
        return 0;
    }

    /** Extracts the embedded pair and prompts to root/<content hash>/ unless already there; returns that directory. */
    static Path extract(Path root) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String name : resourceNames()) {
                sha.update(name.getBytes());
                sha.update(read(name));
            }
            Path dir = root.resolve(HexFormat.of().formatHex(sha.digest()).substring(0, 16));
            if (Files.isRegularFile(dir.resolve("prompts.jsonl"))) return dir;
            Files.createDirectories(root);
            Path tmp = Files.createTempDirectory(root, "extract-");
            for (String name : resourceNames()) {
                Path target = tmp.resolve(name);
                Files.createDirectories(target.getParent());
                Files.write(target, read(name));
            }
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                // Another process extracted the same content first: use its copy.
                if (!Files.isRegularFile(dir.resolve("prompts.jsonl"))) throw e;
                deleteTree(tmp);
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the demo pair under " + root, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<String> resourceNames() {
        List<String> names = new java.util.ArrayList<>();
        for (String model : List.of("pt", "it")) for (String f : MODEL_FILES) names.add(model + "/" + f);
        names.add("prompts.jsonl");
        return names;
    }

    private static byte[] read(String name) throws IOException {
        try (InputStream in = DemoCommand.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) throw new IllegalStateException("the jar has no demo resource " + RESOURCES + name + " (build with the demo pair)");
            return in.readAllBytes();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
