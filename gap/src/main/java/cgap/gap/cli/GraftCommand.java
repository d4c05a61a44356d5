package cgap.gap.cli;

import cgap.engine.graft.LayerWindow;
import cgap.engine.graft.MlpGraft;
import cgap.gap.graft.GraftCompatibility;
import cgap.gap.graft.GraftExperiment;
import cgap.gap.graft.GraftExperiment.NamedWindow;
import cgap.gap.graft.GraftPrompt;
import cgap.gap.graft.GraftReport;
import cgap.gap.graft.GraftRun;
import cgap.gap.graft.GraftSummary;
import cgap.gap.graft.Intervention;
import cgap.gap.lens.LensVocab;
import cgap.gap.stats.Windows;
import cgap.gap.study.RunFingerprint;
import cgap.models.Model;
import cgap.models.chat.ChatTemplate;
import cgap.models.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * {@code cgap graft}: the paper's matched-prefix MLP interventions. The IT model continues each prompt greedily in
 * its chat template; the host is forced through those tokens un-intervened and with the donor's MLPs (and the
 * controls) in each window; the effect is the change in the host's late KL, bootstrapped over prompts.
 */
@Command(name = "graft", description = "Matched-prefix MLP grafts and swaps between a PT and an IT checkpoint, with the paper's controls.")
public final class GraftCommand implements Callable<Integer> {
    @Option(names = "--host", required = true, paramLabel = "DIR", description = "The model that runs (keeps its attention, norms, embeddings).") Path host;
    @Option(names = "--donor", required = true, paramLabel = "DIR", description = "The checkpoint whose MLPs are grafted in (same family and shapes).") Path donor;
    @Option(names = "--window", defaultValue = "early,mid,late", paramLabel = "SPEC[,SPEC..]",
            description = "Windows: early, mid, late (about 40%% of depth each) or end-inclusive A-B; comma list (default ${DEFAULT-VALUE}).")
    String windows;
    @Option(names = "--prompts", required = true, paramLabel = "FILE", description = "JSONL prompts (the paper's eval_dataset_v2.jsonl format).") Path prompts;
    @Option(names = "--out", required = true, paramLabel = "DIR") Path out;
    @Option(names = "--limit", defaultValue = "0", paramLabel = "K", description = "Only the first K prompts (default: all).") int limit;
    @Option(names = "--controls", defaultValue = "identity,permute,random-proj,random-norm", paramLabel = "LIST",
            description = "Controls beside the graft: identity, permute, random-proj, random-norm, or none (default ${DEFAULT-VALUE}).")
    String controls;
    @Option(names = "--seeds", defaultValue = "3", paramLabel = "N", description = "Draws of each random control (default ${DEFAULT-VALUE}).") int seeds;
    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seed of the random controls and the bootstrap (default ${DEFAULT-VALUE}).") long seed;
    @Option(names = "--bootstrap", defaultValue = "1000", paramLabel = "B", description = "Bootstrap resamples (default ${DEFAULT-VALUE}).") int bootstrap;
    @Option(names = "--max-new-tokens", defaultValue = "64", paramLabel = "N", description = "Length of the teacher's continuation (default ${DEFAULT-VALUE}).") int maxNewTokens;
    @Option(names = "--host-is", paramLabel = "pt|it",
            description = "Whether the host is the PT or the IT model (default: the one with a chat template is IT).")
    String hostIs;
    @Option(names = "--pt-format", defaultValue = "B", paramLabel = "F", description = "Prompt format a PT host reads raw (default ${DEFAULT-VALUE}).") String ptFormat;
    @Option(names = "--it-format", defaultValue = "A", paramLabel = "F", description = "Prompt format the IT model reads in its chat template (default ${DEFAULT-VALUE}).") String itFormat;

    @Override
    public Integer call() {
        if (limit < 0) throw new IllegalArgumentException("--limit must be >= 0, got " + limit);
        if (bootstrap < 1) throw new IllegalArgumentException("--bootstrap must be at least 1, got " + bootstrap);
        List<Intervention> interventions = interventions(controls);
        try (Model h = Model.load(host); Model d = Model.load(donor)) {
            GraftCompatibility.require(h, d);
            Optional<ChatTemplate> hostTemplate = ChatTemplate.load(host), donorTemplate = ChatTemplate.load(donor);
            boolean hostIsIt = hostIsIt(hostTemplate.isPresent(), donorTemplate.isPresent());
            Model it = hostIsIt ? h : d;
            ChatTemplate template = (hostIsIt ? hostTemplate : donorTemplate).orElseThrow(() -> new IllegalArgumentException(
                    (hostIsIt ? host : donor) + ": the IT model has no chat template (tokenizer_config.json chat_template or chat_template.jinja)"));
            Tokenizer hostTokenizer = Tokenizer.load(host), itTokenizer = hostIsIt ? hostTokenizer : Tokenizer.load(donor);

            int layers = h.spec().layers();
            List<NamedWindow> named = new ArrayList<>();
            for (String spec : windows.split(",")) named.add(new NamedWindow(spec.trim(), LayerWindow.parse(spec, layers)));
            Set<Integer> stops = new TreeSet<>(it.eosIds());
            stops.addAll(itTokenizer.eosIds());
            GraftExperiment experiment = new GraftExperiment(h.transformer(), d.transformer(), it.transformer(), stops,
                    LensVocab.scoredVocab(h), named, interventions, seeds, seed, maxNewTokens);
            List<GraftPrompt> tokenized = GraftPrompt.read(prompts, limit,
                    new GraftPrompt.Encoding(hostTokenizer, itTokenizer, template, hostIsIt, ptFormat, itFormat));

            Map<String, String> runInfo = runInfo(h, d, hostIsIt, named, interventions);
            for (NamedWindow w : named) {
                if (MlpGraft.movesWholeMoeBlocks(h.transformer(), w.layers())) {
                    String note = "window " + w.name() + " (" + w.layers() + ") has mixture-of-experts layers: the whole MoE block moves, router and shared experts included";
                    System.err.println("graft: " + note);
                    runInfo.put("moe_" + w.name(), note);
                }
            }
            GraftRun.Result result = GraftRun.run(experiment, tokenized, out, fingerprint(hostIsIt, named, interventions),
                    runInfo, seed, bootstrap, System.err);
            print(result.summary());
            System.out.println("wrote " + out.resolve("summary.json") + ", window_*.csv, effects_*.png/.svg and report.html");
        }
        return 0;
    }

    static List<Intervention> interventions(String list) {
        List<Intervention> chosen = new ArrayList<>(List.of(Intervention.GRAFT));
        if (list.trim().equals("none")) return chosen;
        for (String label : list.split(",")) {
            Intervention i = Intervention.parse(label);
            if (i == Intervention.GRAFT) throw new IllegalArgumentException("--controls: the graft always runs; list only controls");
            if (!chosen.contains(i)) chosen.add(i);
        }
        return chosen;
    }

    private boolean hostIsIt(boolean hostHasTemplate, boolean donorHasTemplate) {
        if (hostIs != null) {
            if (!hostIs.equals("pt") && !hostIs.equals("it")) throw new IllegalArgumentException("--host-is must be pt or it, got '" + hostIs + "'");
            return hostIs.equals("it");
        }
        if (hostHasTemplate != donorHasTemplate) return hostHasTemplate;
        throw new IllegalArgumentException((hostHasTemplate ? "both --host and --donor have" : "neither --host nor --donor has")
                + " a chat template, so which is the IT model is unclear: say --host-is pt or --host-is it");
    }

    /** What the per-prompt results depend on: a rerun into --out with any of these changed is refused. */
    private Map<String, String> fingerprint(boolean hostIsIt, List<NamedWindow> named, List<Intervention> interventions) {
        Map<String, String> fp = new LinkedHashMap<>();
        fp.put("host", RunFingerprint.hashModel(host));
        fp.put("donor", RunFingerprint.hashModel(donor));
        fp.put("prompts", RunFingerprint.hashFile(prompts));
        fp.put("host_is", hostIsIt ? "it" : "pt");
        fp.put("windows", String.join(",", named.stream().map(w -> w.name() + "=" + w.layers()).toList()));
        fp.put("interventions", String.join(",", interventions.stream().map(i -> i.label).toList()));
        fp.put("seeds", Integer.toString(seeds));
        fp.put("seed", Long.toString(seed));
        fp.put("max_new_tokens", Integer.toString(maxNewTokens));
        fp.put("pt_format", ptFormat);
        fp.put("it_format", itFormat);
        return fp;
    }

    private Map<String, String> runInfo(Model h, Model d, boolean hostIsIt, List<NamedWindow> named, List<Intervention> interventions) {
        int n = h.spec().layers();
        Map<String, String> info = new LinkedHashMap<>();
        info.put("host", h.dir().toAbsolutePath() + (hostIsIt ? " (IT)" : " (PT)"));
        info.put("donor", d.dir().toAbsolutePath() + (hostIsIt ? " (PT)" : " (IT)"));
        info.put("experiment", hostIsIt ? "PT MLPs swapped into the IT host" : "IT MLPs grafted into the PT host");
        info.put("teacher", (hostIsIt ? "host" : "donor") + " (IT), format " + itFormat + " in its chat template, greedy, up to "
                + maxNewTokens + " tokens");
        info.put("host_reads", hostIsIt ? "the teacher's prompt (chat template)" : "format " + ptFormat + " as raw text");
        info.put("family", h.spec().family() + ", " + n + " layers");
        info.put("late_kl_layers", "j >= " + Windows.lateStart(n) + " (floor(0.8 n)) to " + (n - 1));
        info.put("windows", String.join(", ", named.stream().map(w -> w.name() + " " + w.layers()).toList()));
        info.put("interventions", String.join(", ", interventions.stream().map(i -> i.label).toList()));
        info.put("seeds", seeds + " per random control (seed " + seed + ")");
        info.put("prompts_file", prompts.toAbsolutePath().toString());
        return info;
    }

    private static void print(GraftSummary s) {
        System.out.printf(Locale.ROOT, "change in late KL (nats), mean [95%% interval] over %d prompts%n", s.prompts());
        for (GraftSummary.WindowSummary w : s.windows()) {
            System.out.printf(Locale.ROOT, "%-8s %-7s baseline %s%n", w.name(), w.layers(), GraftReport.format(w.baseline(), false));
            for (GraftSummary.Effect e : w.effects()) {
                System.out.printf(Locale.ROOT, "                 %-12s %s%n", e.intervention(), GraftReport.format(e.effect(), true));
            }
        }
    }
}
