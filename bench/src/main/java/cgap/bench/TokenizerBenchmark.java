package cgap.bench;

import cgap.models.tokenizer.Tokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Encoding speed of cgap's Tokenizer against HF `tokenizers` (Rust, one thread) on the same
 * lines of the same corpus, measured side by side in one run, plus a checksum over all ids to
 * show both produced the same tokens.
 *
 * Usage: TokenizerBenchmark --corpus FILE --python PYTHON DIR... (one tokenizer directory each).
 * The corpus is split into lines; each non-empty line is encoded without special tokens
 * (HF: encode_batch(lines, add_special_tokens=False) with RAYON_NUM_THREADS=1). Every timed pass
 * starts from a freshly loaded tokenizer on both sides, so neither reuses a word cache filled by
 * an earlier pass; the Java side first runs one untimed pass to compile its code. REPEATS passes
 * per side; the best is reported, as wall time and as
 * CPU time (Java: the encoding thread's; Python: the process's, which is one thread here; loading:
 * both processes' CPU time, for Java including its JIT compiler and GC threads), since
 * on a shared machine wall time mostly measures the neighbours.
 */
public final class TokenizerBenchmark {
    private static final int REPEATS = 3;

    /** HF side, run as a child process so both sides read the same files on the same machine. */
    private static final String PYTHON_SIDE = """
            import json, sys, time
            from tokenizers import Tokenizer
            path, corpus, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
            lines = [l for l in open(corpus, encoding="utf-8", newline="").read().split("\\n") if l]
            t0, c0 = time.perf_counter(), time.process_time()
            tok = Tokenizer.from_file(path)
            load, load_cpu = time.perf_counter() - t0, time.process_time() - c0
            passes, passes_cpu = [], []
            for _ in range(repeats):
                tok = Tokenizer.from_file(path)  # a fresh, empty word cache for every pass
                t0, c0 = time.perf_counter(), time.process_time()
                encodings = tok.encode_batch(lines, add_special_tokens=False)
                passes.append(time.perf_counter() - t0); passes_cpu.append(time.process_time() - c0)
            checksum, tokens, mask = 0, 0, (1 << 64) - 1
            for e in encodings:
                for i in e.ids:
                    checksum = (checksum * 1000003 + i) & mask
                tokens += len(e.ids)
            print(json.dumps({"load_s": load, "load_cpu_s": load_cpu, "passes_s": passes, "passes_cpu_s": passes_cpu,
                              "tokens": tokens, "checksum": checksum}))
            """;

    public static void main(String[] args) throws Exception {
        Path corpus = null;
        String python = null;
        List<Path> dirs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--corpus" -> corpus = Path.of(args[++i]);
                case "--python" -> python = args[++i];
                default -> dirs.add(Path.of(args[i]));
            }
        }
        if (corpus == null || python == null || dirs.isEmpty()) {
            System.err.println("usage: TokenizerBenchmark --corpus FILE --python PYTHON TOKENIZER_DIR...");
            System.exit(2);
        }
        byte[] bytes = Files.readAllBytes(corpus);
        List<String> lines = Arrays.stream(new String(bytes, StandardCharsets.UTF_8).split("\n")).filter(l -> !l.isEmpty()).toList();
        System.out.printf("corpus %s: %.2f MB, %d non-empty lines; best of %d passes after one warm-up%n",
                corpus, bytes.length / 1e6, lines.size(), REPEATS);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        // Loading resolves merges on several threads; its CPU time is the whole process's (JIT and GC too).
        var process = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        System.out.printf("%-10s %8s | %-27s | %-27s | %-23s | %s%n", "", "",
                "encode MB/s (wall)", "encode MB/s (CPU)", "load s (CPU)", "");
        System.out.printf("%-10s %8s | %8s %8s %9s | %8s %8s %9s | %7s %7s %7s | %s%n", "tokenizer", "tokens",
                "cgap", "HF", "cgap/HF", "cgap", "HF", "cgap/HF", "cgap", "HF", "wall", "ids");
        double mb = bytes.length / 1e6;
        for (Path dir : dirs) {
            long t0 = System.nanoTime();
            long c0 = process.getProcessCpuTime();
            Tokenizer tokenizer = Tokenizer.load(dir);
            double loadCpu = (process.getProcessCpuTime() - c0) / 1e9;
            double loadWall = (System.nanoTime() - t0) / 1e9;
            encodeAll(tokenizer, lines); // warm-up: lets the JIT compile the encoder
            double best = Double.MAX_VALUE;
            double bestCpu = Double.MAX_VALUE;
            long[] result = null;
            for (int r = 0; r < REPEATS; r++) {
                tokenizer = Tokenizer.load(dir); // empty word cache, as on the HF side
                long start = System.nanoTime();
                long cpuStart = threads.getCurrentThreadCpuTime();
                result = encodeAll(tokenizer, lines);
                best = Math.min(best, (System.nanoTime() - start) / 1e9);
                bestCpu = Math.min(bestCpu, (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9);
            }
            JsonNode hf = runPython(python, dir, corpus);
            double hfBest = min(hf.get("passes_s"));
            double hfBestCpu = min(hf.get("passes_cpu_s"));
            boolean same = hf.get("tokens").asLong() == result[0]
                    && Long.toUnsignedString(result[1]).equals(hf.get("checksum").asText());
            System.out.printf("%-10s %8d | %8.2f %8.2f %9.2f | %8.2f %8.2f %9.2f | %7.2f %7.2f %7.2f | %s%n",
                    dir.getFileName(), result[0], mb / best, mb / hfBest, hfBest / best, mb / bestCpu, mb / hfBestCpu,
                    hfBestCpu / bestCpu, loadCpu, hf.get("load_cpu_s").asDouble(), loadWall, same ? "same" : "DIFFER");
        }
    }

    private static double min(JsonNode values) {
        double min = Double.MAX_VALUE;
        for (JsonNode v : values) min = Math.min(min, v.asDouble());
        return min;
    }

    /** Token count and the same rolling checksum the Python side computes. */
    private static long[] encodeAll(Tokenizer tokenizer, List<String> lines) {
        long tokens = 0;
        long checksum = 0;
        for (String line : lines) {
            int[] ids = tokenizer.encode(line, false);
            tokens += ids.length;
            for (int id : ids) {
                checksum = checksum * 1000003 + id;
            }
        }
        return new long[] {tokens, checksum};
    }

    private static JsonNode runPython(String python, Path dir, Path corpus) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(python, "-c", PYTHON_SIDE, dir.resolve("tokenizer.json").toString(),
                corpus.toString(), String.valueOf(REPEATS));
        builder.environment().put("RAYON_NUM_THREADS", "1");
        builder.environment().put("TOKENIZERS_PARALLELISM", "false");
        builder.redirectError(ProcessBuilder.Redirect.INHERIT);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IOException("HF side failed for " + dir + " (exit " + process.exitValue() + ")");
        }
        return new ObjectMapper().readTree(output);
    }
}
