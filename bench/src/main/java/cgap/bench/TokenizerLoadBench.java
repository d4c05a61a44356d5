package cgap.bench;

import cgap.gap.bench.EndToEndBench;
import cgap.models.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Cold-start tokenizer loading, the cost a person pays on every {@code cgap tokenize}: each sample is a fresh
 * JVM that loads one tokenizer once. Three modes, alternated sample by sample so both see the same moments
 * of a shared machine: {@code json} (cache off: parse tokenizer.json), {@code first} (cache on, empty: parse
 * and write the cache entry), {@code cached} (load from the entry). Prints medians.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar cgap.bench.TokenizerLoadBench --samples 5 .cache/tokenizers/llama3 ...
 * </pre>
 */
public final class TokenizerLoadBench {
    private TokenizerLoadBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("--once")) {
            long start = System.nanoTime();
            Tokenizer t = Tokenizer.load(Path.of(args[1]));
            long elapsed = System.nanoTime() - start;
            if (t.vocabSize() <= 0) throw new AssertionError("empty vocabulary");
            System.out.println(elapsed);
            return;
        }
        int samples = 5;
        List<Path> dirs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--samples")) samples = Integer.parseInt(args[++i]);
            else dirs.add(Path.of(args[i]));
        }
        if (dirs.isEmpty()) throw new IllegalArgumentException("usage: TokenizerLoadBench [--samples N] TOKENIZER_DIR...");
        Path cache = Files.createTempDirectory("cgap-tokenizer-cache");
        System.out.printf(Locale.ROOT, "fresh JVM per sample, median of %d; load = Tokenizer.load inside the JVM, process = the whole java run%n", samples);
        System.out.printf(Locale.ROOT, "%-10s | %-21s | %-21s | %-21s%n", "tokenizer", "json: load / process", "first: load / process", "cached: load / process");
        for (Path dir : dirs) {
            double[][] load = new double[3][samples], process = new double[3][samples];
            for (int s = 0; s < samples; s++) {
                clear(cache);
                sample(dir, cache, false, load[0], process[0], s);
                sample(dir, cache, true, load[1], process[1], s); // empty cache: parses and writes the entry
                sample(dir, cache, true, load[2], process[2], s); // reads it
            }
            System.out.printf(Locale.ROOT, "%-10s | %8.0f / %6.0f ms | %8.0f / %6.0f ms | %8.0f / %6.0f ms%n",
                    dir.getFileName(), EndToEndBench.median(load[0]), EndToEndBench.median(process[0]), EndToEndBench.median(load[1]), EndToEndBench.median(process[1]),
                    EndToEndBench.median(load[2]), EndToEndBench.median(process[2]));
        }
        clear(cache);
        Files.delete(cache);
    }

    private static void sample(Path dir, Path cache, boolean useCache, double[] load, double[] process, int s)
            throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Dcgap.cache.dir=" + cache, "-Dcgap.tokenizer.cache=" + useCache,
                TokenizerLoadBench.class.getName(), "--once", dir.toString());
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        long start = System.nanoTime();
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        if (p.waitFor() != 0) throw new IllegalStateException("sample failed for " + dir);
        process[s] = (System.nanoTime() - start) / 1e6;
        load[s] = Long.parseLong(out) / 1e6;
    }

    private static void clear(Path cache) throws IOException {
        try (var files = Files.list(cache.resolve("tokenizers"))) {
            for (Path f : files.toList()) Files.delete(f);
        } catch (java.nio.file.NoSuchFileException ignored) {
            return;
        }
        Files.delete(cache.resolve("tokenizers"));
    }

}
