package cgap.gap.graft;

import cgap.gap.stats.Bootstrap;
import cgap.gap.stats.Bootstrap.Interval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The graft run's statistics: per window, the host's baseline late KL and each intervention's effect (mean change
 * in late KL, averaged within a prompt over its continuation, then over prompts) with a percentile bootstrap
 * interval over prompts. A random control's per-prompt effect is the mean over its seeds; each seed also gets its
 * own interval.
 */
public record GraftSummary(int prompts, double level, int bootstrapSamples, long seed, List<WindowSummary> windows) {

    public record WindowSummary(String name, String layers, Interval baseline, List<Effect> effects) {
        public Effect effect(String intervention) {
            return effects.stream().filter(e -> e.intervention().equals(intervention)).findFirst().orElse(null);
        }
    }

    /** @param perSeed one interval per seed for the random controls, empty for the others */
    public record Effect(String intervention, Interval effect, Interval lateKl, List<Interval> perSeed) {}

    public static final double LEVEL = 0.95;

    public static GraftSummary of(List<PromptResult> results, long seed, int samples) {
        if (results.isEmpty()) throw new IllegalArgumentException("no prompt results to summarize");
        double[] baseline = results.stream().mapToDouble(PromptResult::baseline).toArray();
        Interval baselineInterval = Bootstrap.percentileInterval(baseline, seed, samples, LEVEL);
        List<WindowSummary> windows = new ArrayList<>();
        for (PromptResult.Row first : results.getFirst().rows()) {
            if (windows.stream().anyMatch(w -> w.name().equals(first.window()))) continue;
            windows.add(window(results, first.window(), first.layers(), baselineInterval, seed, samples));
        }
        return new GraftSummary(results.size(), LEVEL, samples, seed, windows);
    }

    private static WindowSummary window(List<PromptResult> results, String window, String layers, Interval baseline,
                                        long seed, int samples) {
        // intervention -> seed -> per-prompt values, in the order the rows were measured
        Map<String, Map<Integer, double[][]>> byIntervention = new LinkedHashMap<>();
        for (int p = 0; p < results.size(); p++) {
            for (PromptResult.Row r : results.get(p).rows()) {
                if (!r.window().equals(window)) continue;
                double[][] values = byIntervention.computeIfAbsent(r.intervention(), k -> new LinkedHashMap<>())
                        .computeIfAbsent(r.seed(), k -> new double[2][results.size()]);
                values[0][p] = r.effect();
                values[1][p] = r.lateKl();
            }
        }
        List<Effect> effects = new ArrayList<>();
        byIntervention.forEach((intervention, bySeed) -> {
            double[] effect = new double[results.size()], lateKl = new double[results.size()];
            List<Interval> perSeed = new ArrayList<>();
            for (Map.Entry<Integer, double[][]> s : bySeed.entrySet()) {
                for (int p = 0; p < results.size(); p++) {
                    effect[p] += s.getValue()[0][p] / bySeed.size();
                    lateKl[p] += s.getValue()[1][p] / bySeed.size();
                }
                if (s.getKey() >= 0) perSeed.add(Bootstrap.percentileInterval(s.getValue()[0], seed, samples, LEVEL));
            }
            effects.add(new Effect(intervention, Bootstrap.percentileInterval(effect, seed, samples, LEVEL),
                    Bootstrap.percentileInterval(lateKl, seed, samples, LEVEL), perSeed));
        });
        return new WindowSummary(window, layers, baseline, effects);
    }
}
