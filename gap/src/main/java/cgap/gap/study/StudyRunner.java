package cgap.gap.study;

import cgap.gap.lens.Readouts;
import cgap.gap.report.StudyReport;
import cgap.gap.stats.StudyStatistics;
import cgap.gap.stats.StudySummary;
import cgap.kernels.Parallel;
import cgap.models.chat.ChatMessage;
import cgap.models.chat.ChatTemplate;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The study loop. For each prompt: PT decodes greedily from its raw format, IT from its chat-templated format,
 * every generated step scored at every layer; then (with replay) each native continuation is forced through
 * both models in all three regimes, and where the two models read identical tokens their layer distributions
 * are compared (same-history JS).
 *
 * <p>Files in the output directory: {@code run.json} (what the run depends on, hashed: a rerun with other
 * models, prompts or arguments is refused), {@code progress.json} (finished prompts and the file lengths after
 * each; replaced atomically), {@code steps.jsonl[.gz]} and {@code same_history_js.jsonl[.gz]} (appended one
 * prompt at a time and forced to disk), then the statistics and report files. Killed at any point and rerun,
 * the run cuts off a half-written prompt and continues after the last finished one.
 */
public final class StudyRunner {
    /** Above this estimated size steps.jsonl is gzip-compressed. */
    static final long COMPRESS_ABOVE_BYTES = 256L << 20;
    static final String RUN_FILE = "run.json";
    static final String PROGRESS_FILE = "progress.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Called after each prompt is committed to disk (tests use it to stop a run as a kill would). */
    @FunctionalInterface
    public interface AfterPrompt {
        void finished(String promptId, int done, int total);
    }

    /** What the run produced. */
    public record Result(Path outDir, StudySummary summary, String headlineTable, int prompts, int resumedPrompts, long steps) {}

    private final StudyOptions options;
    private final PrintStream log;
    private final AfterPrompt afterPrompt;

    public StudyRunner(StudyOptions options, PrintStream log, AfterPrompt afterPrompt) {
        this.options = options;
        this.log = log;
        this.afterPrompt = afterPrompt;
    }

    public Result run() {
        List<Prompt> prompts = Prompt.read(options.promptsFile());
        if (options.limit() > 0 && options.limit() < prompts.size()) prompts = prompts.subList(0, options.limit());
        Path out = options.outDir();
        createDirectories(out);
        RunFingerprint fingerprint = RunFingerprint.of(options);
        long startNanos = System.nanoTime();

        try (StudyModel pt = StudyModel.load("pt", options.ptDir()); StudyModel it = StudyModel.load("it", options.itDir())) {
            ChatTemplate chat = ChatTemplate.load(options.itDir()).orElseThrow(() -> new IllegalArgumentException(
                    "--it " + options.itDir() + ": no chat template (tokenizer_config.json chat_template or chat_template.jinja); the it_native regime needs one"));
            String stepsName = startOrResume(out, fingerprint, prompts.size(), pt);
            StepsFile steps = new StepsFile(out.resolve(stepsName));
            StepsFile sameHistory = new StepsFile(out.resolve(stepsName.replace("steps", "same_history_js")));
            Progress progress = readProgress(out);
            steps.truncate(progress.stepsBytes);
            sameHistory.truncate(progress.sameHistoryBytes);

            int resumed = progress.finished.size();
            if (resumed > 0) log.printf(Locale.ROOT, "resuming %s: %d of %d prompts already done%n", out, resumed, prompts.size());
            PromptEncoder encoder = new PromptEncoder(chat, options.ptFormat(), options.itFormat());
            try (Display display = Display.open(prompts.size(), resumed, log)) {
                for (Prompt p : prompts) {
                    if (progress.finished.contains(p.id())) continue;
                    List<StepRecord> records = new ArrayList<>();
                    List<SameHistoryJs> js = new ArrayList<>();
                    measurePrompt(p, pt, it, encoder, records, js);
                    steps.append(records);
                    sameHistory.append(js);
                    progress.finished.add(p.id());
                    progress.stepsBytes = steps.length();
                    progress.sameHistoryBytes = sameHistory.length();
                    writeProgress(out, progress);
                    display.finished(p.id(), progress.finished.size());
                    afterPrompt.finished(p.id(), progress.finished.size(), prompts.size());
                }
            }

            List<StepRecord> all = steps.readAll(StepRecord.class);
            StudySummary summary = StudyStatistics.summarize(all, options.seed(), options.bootstrapSamples());
            List<SameHistoryJs> jsAll = sameHistory.readAll(SameHistoryJs.class);
            writeSameHistoryCurves(out.resolve("same_history_js.csv"), jsAll);
            Map<String, String> runInfo = runInfo(prompts.size(), pt, it, all.size(), startNanos);
            StudyReport.write(out, summary, runInfo);
            return new Result(out, summary, StudyReport.headlineTable(summary), prompts.size(), resumed, all.size());
        }
    }

    /** Both native decodes of one prompt, then the forced replays. */
    private void measurePrompt(Prompt p, StudyModel pt, StudyModel it, PromptEncoder encoder,
                               List<StepRecord> records, List<SameHistoryJs> js) {
        int[] ptPrompt = encoder.tokens(pt, p, Regime.PT_RAW);
        int[] itPrompt = encoder.tokens(it, p, Regime.IT_NATIVE);
        int[] ptContinuation = LensSteps.decode(pt, ptPrompt, options.maxNewTokens(),
                (step, token, x) -> records.add(LensSteps.record(p, "pt", Regime.PT_RAW, "own", step, token, x)));
        int[] itContinuation = LensSteps.decode(it, itPrompt, options.maxNewTokens(),
                (step, token, x) -> records.add(LensSteps.record(p, "it", Regime.IT_NATIVE, "own", step, token, x)));
        if (!options.replay()) return;
        Map<Regime, int[]> histories = new LinkedHashMap<>();
        histories.put(Regime.IT_NATIVE, itContinuation);
        histories.put(Regime.PT_RAW, ptContinuation);
        boolean comparable = pt.layers() == it.layers() && pt.scoredVocab == it.scoredVocab;
        for (Map.Entry<Regime, int[]> h : histories.entrySet()) {
            String history = h.getKey().label;
            int[] continuation = h.getValue();
            for (Regime regime : Regime.values()) {
                int[] ptTokens = encoder.tokens(pt, p, regime), itTokens = encoder.tokens(it, p, regime);
                checkForcible(pt, continuation, history);
                checkForcible(it, continuation, history);
                float[][] ptRows = LensSteps.forcedResiduals(pt, ptTokens, continuation);
                float[][] itRows = LensSteps.forcedResiduals(it, itTokens, continuation);
                // A model forced through its own native regime and continuation repeats its own cell: not recorded.
                boolean ptOwn = regime == Regime.PT_RAW && h.getKey() == Regime.PT_RAW;
                boolean itOwn = regime == Regime.IT_NATIVE && h.getKey() == Regime.IT_NATIVE;
                boolean sameTokens = comparable && Arrays.equals(ptTokens, itTokens);
                for (int s = 0; s < continuation.length; s++) {
                    Readouts xPt = ptOwn && !sameTokens ? null : Readouts.of(pt.transformer(), pt.scoredVocab, ptRows[s], pt.layers() + 1);
                    Readouts xIt = itOwn && !sameTokens ? null : Readouts.of(it.transformer(), it.scoredVocab, itRows[s], it.layers() + 1);
                    if (!ptOwn) records.add(LensSteps.record(p, "pt", regime, history, s, continuation[s], xPt));
                    if (!itOwn) records.add(LensSteps.record(p, "it", regime, history, s, continuation[s], xIt));
                    if (sameTokens) {
                        js.add(new SameHistoryJs(p.id(), p.category(), regime.label, history, s, continuation[s],
                                LensSteps.sameHistoryJs(xPt, xIt)));
                    }
                }
            }
        }
    }

    private static void checkForcible(StudyModel m, int[] continuation, String history) {
        for (int id : continuation) {
            if (id >= m.scoredVocab) {
                throw new IllegalArgumentException("the " + history + " continuation holds token " + id + ", outside the "
                        + m.name + " model's vocabulary (" + m.scoredVocab + "): the pair must share a tokenizer");
            }
        }
    }

    /** Starts a new run (writing run.json) or checks that the directory holds this same run; returns the steps file name. */
    private String startOrResume(Path out, RunFingerprint fingerprint, int promptCount, StudyModel pt) {
        Path runFile = out.resolve(RUN_FILE);
        try {
            if (Files.exists(runFile)) {
                JsonNode earlier = JSON.readTree(runFile.toFile());
                List<String> diffs = fingerprint.differences(RunFingerprint.fromJson(earlier.get("fingerprint")));
                if (!diffs.isEmpty()) {
                    throw new IllegalArgumentException(out + " holds a study run of different inputs (" + String.join("; ", diffs)
                            + "); refusing to mix results: use a new --out directory, or delete " + out + " to start over");
                }
                return earlier.get("steps_file").asText();
            }
            if (Files.exists(out.resolve(PROGRESS_FILE))) {
                throw new IllegalArgumentException(out + " has " + PROGRESS_FILE + " but no " + RUN_FILE + "; use a new --out directory");
            }
            long estimate = (long) promptCount * options.maxNewTokens() * (options.replay() ? 12 : 2) * (pt.layers() + 1) * 80L;
            String stepsName = estimate > COMPRESS_ABOVE_BYTES ? "steps.jsonl.gz" : "steps.jsonl";
            ObjectNode run = JSON.createObjectNode();
            run.set("fingerprint", fingerprint.toJson(JSON));
            run.put("steps_file", stepsName);
            run.put("pt", options.ptDir().toAbsolutePath().toString());
            run.put("it", options.itDir().toAbsolutePath().toString());
            run.put("prompts", options.promptsFile().toAbsolutePath().toString());
            writeAtomically(runFile, JSON.writeValueAsBytes(run));
            return stepsName;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write " + runFile, e);
        }
    }

    /** Finished prompt ids and the lengths of the appended files right after the last of them. */
    static final class Progress {
        final Set<String> finished = new LinkedHashSet<>();
        long stepsBytes;
        long sameHistoryBytes;
    }

    static Progress readProgress(Path out) {
        Progress p = new Progress();
        Path file = out.resolve(PROGRESS_FILE);
        if (!Files.exists(file)) return p;
        try {
            JsonNode node = JSON.readTree(file.toFile());
            node.get("finished").forEach(id -> p.finished.add(id.asText()));
            p.stepsBytes = node.get("steps_bytes").asLong();
            p.sameHistoryBytes = node.get("same_history_bytes").asLong();
            return p;
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException(file + " is unreadable (" + e.getMessage() + "); use a new --out directory");
        }
    }

    static void writeProgress(Path out, Progress p) {
        ObjectNode node = JSON.createObjectNode();
        ArrayNode ids = node.putArray("finished");
        p.finished.forEach(ids::add);
        node.put("steps_bytes", p.stepsBytes);
        node.put("same_history_bytes", p.sameHistoryBytes);
        try {
            writeAtomically(out.resolve(PROGRESS_FILE), JSON.writeValueAsBytes(node));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes to a temporary file beside {@code file}, forces it, then renames it over {@code file}. */
    static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
            var buf = java.nio.ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) ch.write(buf);
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Mean same-history JS per (regime, history, readout): mean over each prompt's steps, then over prompts. */
    static void writeSameHistoryCurves(Path file, List<SameHistoryJs> rows) {
        Map<String, Map<String, double[]>> sums = new TreeMap<>();  // cell -> prompt -> [sum per readout..., count]
        for (SameHistoryJs r : rows) {
            String cell = r.regime() + "," + r.history();
            double[] acc = sums.computeIfAbsent(cell, c -> new TreeMap<>()).computeIfAbsent(r.promptId(), id -> new double[r.js().length + 1]);
            for (int l = 0; l < r.js().length; l++) acc[l] += r.js()[l];
            acc[r.js().length]++;
        }
        StringBuilder csv = new StringBuilder("regime,history,readout,depth,mean_js,prompts\n");
        sums.forEach((cell, byPrompt) -> {
            int n = byPrompt.values().iterator().next().length - 1;
            double[] mean = new double[n];
            for (double[] acc : byPrompt.values()) for (int l = 0; l < n; l++) mean[l] += acc[l] / acc[n] / byPrompt.size();
            for (int l = 0; l < n; l++) {
                csv.append(String.format(Locale.ROOT, "%s,%d,%.6f,%.9g,%d%n", cell, l, n > 1 ? l / (double) (n - 1) : 0, mean[l], byPrompt.size()));
            }
        });
        try {
            writeAtomically(file, csv.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Map<String, String> runInfo(int prompts, StudyModel pt, StudyModel it, long steps, long startNanos) {
        Map<String, String> info = new LinkedHashMap<>();
        info.put("pt", options.ptDir().toAbsolutePath().toString());
        info.put("it", options.itDir().toAbsolutePath().toString());
        info.put("prompts_file", options.promptsFile().toAbsolutePath().toString());
        info.put("prompts", Integer.toString(prompts));
        info.put("max_new_tokens", Integer.toString(options.maxNewTokens()));
        info.put("pt_format", options.ptFormat() + " (raw)");
        info.put("it_format", options.itFormat() + " (chat template, generation prompt)");
        info.put("replay", Boolean.toString(options.replay()));
        info.put("seed", Long.toString(options.seed()));
        info.put("bootstrap_samples", Integer.toString(options.bootstrapSamples()));
        info.put("pt_layers", Integer.toString(pt.layers()));
        info.put("it_layers", Integer.toString(it.layers()));
        info.put("scored_vocab", pt.scoredVocab + " / " + it.scoredVocab);
        info.put("step_records", Long.toString(steps));
        info.put("threads", Integer.toString(Parallel.threads()));
        info.put("this_session_seconds", String.format(Locale.ROOT, "%.1f", (System.nanoTime() - startNanos) / 1e9));
        return info;
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create output directory " + dir, e);
        }
    }

    /** Prompt token ids per model and regime. */
    static final class PromptEncoder {
        private final ChatTemplate chat;
        private final String ptFormat, itFormat;

        PromptEncoder(ChatTemplate chat, String ptFormat, String itFormat) {
            this.chat = chat;
            this.ptFormat = ptFormat;
            this.itFormat = itFormat;
        }

        /** Raw regimes add the tokenizer's special tokens (BOS); the chat template writes its own. */
        int[] tokens(StudyModel m, Prompt p, Regime r) {
            int[] ids = switch (r) {
                case PT_RAW -> m.tokenizer.encode(p.text(ptFormat), true);
                case IT_RAW -> m.tokenizer.encode(p.text(itFormat), true);
                case IT_NATIVE -> m.tokenizer.encode(chat.render(List.of(new ChatMessage("user", p.text(itFormat))), true), false);
            };
            if (ids.length == 0) throw new IllegalArgumentException("prompt " + p.id() + " encodes to no tokens in regime " + r.label);
            for (int id : ids) {
                if (id >= m.transformer().vocab()) {
                    throw new IllegalArgumentException("prompt " + p.id() + ": token " + id + " is outside the " + m.name + " model's embedding");
                }
            }
            return ids;
        }
    }

    /** A progress bar with ETA on a terminal; plain lines otherwise (CI, redirected output). */
    static final class Display implements AutoCloseable {
        private final ProgressBar bar;
        private final PrintStream plain;
        private final int total;
        private final long start = System.nanoTime();
        private final int startDone;

        private Display(ProgressBar bar, PrintStream plain, int total, int startDone) {
            this.bar = bar;
            this.plain = plain;
            this.total = total;
            this.startDone = startDone;
        }

        static Display open(int total, int done, PrintStream log) {
            boolean terminal = System.console() != null && System.getenv("CI") == null;
            if (!terminal) return new Display(null, log, total, done);
            ProgressBar bar = new ProgressBarBuilder().setTaskName("study").setInitialMax(total).setUnit(" prompts", 1)
                    .setStyle(ProgressBarStyle.ASCII).startsFrom(done, Duration.ZERO).build();
            return new Display(bar, null, total, done);
        }

        void finished(String promptId, int done) {
            if (bar != null) {
                bar.stepTo(done);
                bar.setExtraMessage(promptId);
                return;
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            int doneHere = done - startDone;
            double eta = doneHere > 0 ? elapsed / doneHere * (total - done) : 0;
            plain.printf(Locale.ROOT, "study: %d/%d prompts (%s), %.0fs elapsed, ETA %.0fs%n", done, total, promptId, elapsed, eta);
        }

        @Override
        public void close() {
            if (bar != null) bar.close();
        }
    }
}
