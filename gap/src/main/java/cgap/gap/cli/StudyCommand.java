package cgap.gap.cli;

import cgap.gap.study.StudyOptions;
import cgap.gap.study.StudyRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code cgap study}: the convergence-gap study of a PT/IT pair over a prompt file. */
@Command(name = "study", description = {
        "Convergence-gap study of a PT/IT pair: both decode greedily in their native regimes with the logit lens",
        "at every generated step and layer, then template replays; writes steps.jsonl, summary.json, curves.csv,",
        "plots and report.html into --out. Rerun with the same arguments to resume after an interruption."})
public final class StudyCommand implements Callable<Integer> {
    @Option(names = "--pt", required = true, paramLabel = "DIR", description = "The pretrained (base) model directory.") Path pt;
    @Option(names = "--it", required = true, paramLabel = "DIR", description = "The instruction-tuned model directory (with a chat template).") Path it;
    @Option(names = "--prompts", required = true, paramLabel = "FILE",
            description = "JSONL prompts: {id, category, formats: {A, B, ...}} (the paper's form) or {id, prompt}.") Path prompts;
    @Option(names = "--out", required = true, paramLabel = "DIR") Path out;
    @Option(names = "--max-new-tokens", defaultValue = "64", paramLabel = "N", description = "Greedy tokens per prompt and model (default ${DEFAULT-VALUE}).") int maxNewTokens;
    @Option(names = "--limit", defaultValue = "0", paramLabel = "K", description = "Only the first K prompts (default: all).") int limit;
    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Bootstrap seed (default ${DEFAULT-VALUE}).") long seed;
    @Option(names = "--bootstrap", defaultValue = "1000", paramLabel = "B", description = "Bootstrap resamples (default ${DEFAULT-VALUE}).") int bootstrap;
    @Option(names = "--pt-format", defaultValue = "B", paramLabel = "F", description = "Prompt format PT reads raw (default ${DEFAULT-VALUE}).") String ptFormat;
    @Option(names = "--it-format", defaultValue = "A", paramLabel = "F", description = "Prompt format IT reads in its chat template (default ${DEFAULT-VALUE}).") String itFormat;
    @Option(names = "--no-replay", description = "Skip the fixed-history template replays.") boolean noReplay;

    @Override
    public Integer call() {
        StudyOptions options = new StudyOptions(pt, it, prompts, out, maxNewTokens, limit, seed, ptFormat, itFormat, bootstrap, !noReplay);
        StudyRunner.Result result = new StudyRunner(options, System.out, (id, done, total) -> {}).run();
        System.out.println(result.headlineTable());
        System.out.println("results in " + result.outDir() + " (report.html, summary.json, curves.csv, " + stepsName(result) + ")");
        return 0;
    }

    static String stepsName(StudyRunner.Result result) {
        return java.nio.file.Files.exists(result.outDir().resolve("steps.jsonl.gz")) ? "steps.jsonl.gz" : "steps.jsonl";
    }
}
