package cgap.gap.graft;

import cgap.gap.report.AtomicFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * A resumable graft run in an output directory. run.json holds the fingerprint of the inputs; results.jsonl
 * grows by one line per finished prompt, appended and forced to disk. A rerun with the same inputs skips the
 * prompts already there (cutting off a line a kill left half written); a rerun with other inputs is refused.
 * The summary and report are rewritten at the end from every prompt's results.
 */
public final class GraftRun {
    static final String RUN_FILE = "run.json", RESULTS_FILE = "results.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    private GraftRun() {}

    /** What the run produced; {@code resumed} prompts were already in the directory. */
    public record Result(Path out, GraftSummary summary, List<PromptResult> results, int resumed) {}

    /**
     * @param fingerprint what the per-prompt results depend on (model and prompt-file hashes, arguments)
     * @param runInfo     shown in summary.json and the report
     */
    public static Result run(GraftExperiment experiment, List<GraftPrompt> prompts, Path out, Map<String, String> fingerprint,
                             Map<String, String> runInfo, long bootstrapSeed, int bootstrapSamples, PrintStream log) {
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create output directory " + out, e);
        }
        startOrResume(out, fingerprint);
        Map<String, PromptResult> done = readResults(out.resolve(RESULTS_FILE));
        int resumed = (int) prompts.stream().filter(p -> done.containsKey(p.id())).count();
        if (resumed > 0) log.printf(Locale.ROOT, "resuming %s: %d of %d prompts already done%n", out, resumed, prompts.size());

        long start = System.nanoTime();
        int measured = 0, todo = prompts.size() - resumed;
        for (GraftPrompt p : prompts) {
            if (done.containsKey(p.id())) continue;
            PromptResult r = experiment.measure(p);
            try {
                AtomicFiles.append(out.resolve(RESULTS_FILE), (JSON.writeValueAsString(r) + "\n").getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            done.put(p.id(), r);
            measured++;
            double elapsed = (System.nanoTime() - start) / 1e9;
            log.printf(Locale.ROOT, "graft: prompt %d/%d (%s) done, %d tokens; %.1f s elapsed, ~%.0f s left%n",
                    resumed + measured, prompts.size(), p.id(), r.continuation().length, elapsed, elapsed / measured * (todo - measured));
        }

        List<PromptResult> results = new ArrayList<>();
        for (GraftPrompt p : prompts) results.add(done.get(p.id()));
        GraftSummary summary = GraftSummary.of(results, bootstrapSeed, bootstrapSamples);
        Map<String, String> info = new LinkedHashMap<>(runInfo);
        info.put("prompts", Integer.toString(prompts.size()));
        info.put("resumed_prompts", Integer.toString(resumed));
        GraftReport.write(out, summary, results, info);
        return new Result(out, summary, results, resumed);
    }

    private static void startOrResume(Path out, Map<String, String> fingerprint) {
        Path runFile = out.resolve(RUN_FILE);
        try {
            if (!Files.exists(runFile)) {
                if (Files.exists(out.resolve(RESULTS_FILE))) {
                    throw new IllegalArgumentException(out + " has " + RESULTS_FILE + " but no " + RUN_FILE + "; use a new --out directory");
                }
                ObjectNode run = JSON.createObjectNode();
                ObjectNode fp = run.putObject("fingerprint");
                fingerprint.forEach(fp::put);
                AtomicFiles.write(runFile, JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(run));
                return;
            }
            JsonNode earlier = JSON.readTree(runFile.toFile()).get("fingerprint");
            List<String> differences = new ArrayList<>();
            TreeSet<String> keys = new TreeSet<>(fingerprint.keySet());
            earlier.fieldNames().forEachRemaining(keys::add);
            for (String key : keys) {
                String before = earlier.has(key) ? earlier.get(key).asText() : null, now = fingerprint.get(key);
                if (before == null || !before.equals(now)) differences.add(key + " was " + shorten(before) + ", now " + shorten(now));
            }
            if (!differences.isEmpty()) {
                throw new IllegalArgumentException(out + " holds a graft run of different inputs (" + String.join("; ", differences)
                        + "); refusing to mix results: use a new --out directory, or delete " + out + " to start over");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write " + runFile, e);
        }
    }

    private static String shorten(String s) {
        if (s == null) return "absent";
        return s.matches("[0-9a-f]{64}") ? s.substring(0, 12) + ".." : s;
    }

    /** The complete lines of results.jsonl by prompt id; a trailing partial line (a killed append) is cut off. */
    static Map<String, PromptResult> readResults(Path file) {
        Map<String, PromptResult> done = new LinkedHashMap<>();
        if (!Files.exists(file)) return done;
        try {
            byte[] bytes = Files.readAllBytes(file);
            int complete = bytes.length;
            while (complete > 0 && bytes[complete - 1] != '\n') complete--;
            if (complete < bytes.length) {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    ch.truncate(complete);
                    ch.force(true);
                }
            }
            int lineNo = 0;
            for (String line : new String(bytes, 0, complete, StandardCharsets.UTF_8).split("\n")) {
                lineNo++;
                if (line.isBlank()) continue;
                try {
                    PromptResult r = JSON.readValue(line, PromptResult.class);
                    done.put(r.prompt(), r);
                } catch (IOException e) {
                    throw new IllegalStateException(file + " line " + lineNo + " is not a prompt result (" + e.getMessage()
                            + "); use a new --out directory");
                }
            }
            return done;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
