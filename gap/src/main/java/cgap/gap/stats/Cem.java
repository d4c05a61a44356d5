package cgap.gap.stats;

import cgap.gap.stats.StudySummary.Balance;
import cgap.gap.stats.StudySummary.Estimate;
import cgap.gap.stats.StudySummary.Matched;
import cgap.gap.study.StepRecord;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;
import java.util.function.ToDoubleFunction;

/**
 * Coarsened exact matching (Iacus, King and Porro) of two groups of token steps on the final distribution's
 * top-1 probability, entropy and top1-top2 log-prob margin, each coarsened into decile bins of the pooled steps.
 * A stratum is one combination of the three bins; strata holding steps of only one group are dropped.
 * <p>
 * Weights (CEM's): every kept treated step weighs 1; a kept control step in stratum s weighs
 * (mT_s / mC_s) * (mC / mT), so the control group takes the treated group's distribution over strata. The
 * treated minus control weighted mean of an outcome is then sum_s (mT_s / mT) (meanT_s - meanC_s).
 * <p>
 * The bins come from all steps once; the interval resamples prompts (with all their steps, both groups
 * together) and re-weights within those fixed bins, so strata that lose one group in a resample are dropped there.
 */
final class Cem {
    private Cem() {}

    static final int BINS = 10;
    static final String WEIGHTING = "CEM weights: treated steps 1; control steps in stratum s (mT_s/mC_s)(mC/mT), "
            + "i.e. control reweighted to the treated distribution over strata; bins are deciles of the pooled steps";

    private static final List<String> COVARIATES = List.of("final_top1_prob", "final_entropy", "final_margin");
    private static final List<ToDoubleFunction<StepRecord>> COVARIATE_OF = List.of(
            StepRecord::finalTop1Prob, StepRecord::finalEntropy, StepRecord::finalMargin);

    /** Matches treated against control steps and measures the late-KL gap on the matched steps. */
    static Matched match(String treatedLabel, List<StepRecord> treated, String controlLabel, List<StepRecord> control,
                         IntFunction<Bootstrap.Resamples> resamples, double level) {
        return match(treatedLabel, treated, controlLabel, control, Windows::lateKl, resamples, level);
    }

    /** As {@link #match(String, List, String, List, IntFunction, double)} for any per-step outcome. */
    static Matched match(String treatedLabel, List<StepRecord> treated, String controlLabel, List<StepRecord> control,
                         ToDoubleFunction<StepRecord> outcome, IntFunction<Bootstrap.Resamples> resamples, double level) {
        if (treated.isEmpty() || control.isEmpty()) return null;
        int[] treatedStratum = new int[treated.size()], controlStratum = new int[control.size()];
        assignStrata(treated, control, treatedStratum, controlStratum);

        int strataCount = (int) Math.pow(BINS, COVARIATES.size());
        long[] treatedPerStratum = new long[strataCount], controlPerStratum = new long[strataCount];
        for (int s : treatedStratum) treatedPerStratum[s]++;
        for (int s : controlStratum) controlPerStratum[s]++;
        int occupied = 0, matched = 0;
        long treatedKept = 0, controlKept = 0;
        for (int s = 0; s < strataCount; s++) {
            if (treatedPerStratum[s] + controlPerStratum[s] > 0) occupied++;
            if (treatedPerStratum[s] > 0 && controlPerStratum[s] > 0) {
                matched++;
                treatedKept += treatedPerStratum[s];
                controlKept += controlPerStratum[s];
            }
        }

        // Per-step weights (0 = dropped); the constant mC/mT is left out: it cancels in every weighted mean.
        double[] treatedWeight = new double[treated.size()], controlWeight = new double[control.size()];
        for (int i = 0; i < treated.size(); i++)
            treatedWeight[i] = controlPerStratum[treatedStratum[i]] > 0 ? 1 : 0;
        for (int i = 0; i < control.size(); i++) {
            int s = controlStratum[i];
            controlWeight[i] = treatedPerStratum[s] > 0 ? (double) treatedPerStratum[s] / controlPerStratum[s] : 0;
        }

        List<Balance> balance = new ArrayList<>();
        double maxBefore = 0, maxAfter = 0;
        for (int c = 0; c < COVARIATES.size(); c++) {
            double[] t = values(treated, COVARIATE_OF.get(c)), k = values(control, COVARIATE_OF.get(c));
            double before = smd(t, null, k, null);
            double after = matched == 0 ? Double.NaN : smd(t, treatedWeight, k, controlWeight);
            balance.add(new Balance(COVARIATES.get(c), before, after));
            maxBefore = Math.max(maxBefore, Math.abs(before));
            maxAfter = matched == 0 ? Double.NaN : Math.max(maxAfter, Math.abs(after));
        }

        double[] treatedOutcome = values(treated, outcome), controlOutcome = values(control, outcome);
        double unmatchedGap = weightedMean(treatedOutcome, null) - weightedMean(controlOutcome, null);
        Estimate gap = matchedGapInterval(treated, treatedStratum, treatedOutcome, control, controlStratum,
                controlOutcome, strataCount, resamples, level, treatedKept + controlKept);

        return new Matched(treatedLabel, controlLabel, occupied, matched, treated.size(), control.size(),
                treatedKept, controlKept, (double) treatedKept / treated.size(), (double) controlKept / control.size(),
                unmatchedGap, gap, balance, maxBefore, maxAfter, WEIGHTING);
    }

    /** Stratum code of every step: bins of the covariates (deciles of the pooled steps) as digits base BINS. */
    private static void assignStrata(List<StepRecord> treated, List<StepRecord> control, int[] treatedStratum,
                                     int[] controlStratum) {
        for (int c = 0; c < COVARIATES.size(); c++) {
            ToDoubleFunction<StepRecord> covariate = COVARIATE_OF.get(c);
            double[] t = values(treated, covariate), k = values(control, covariate);
            checkFinite(t, treated, COVARIATES.get(c));
            checkFinite(k, control, COVARIATES.get(c));
            double[] cuts = decileCuts(t, k);
            for (int i = 0; i < t.length; i++) treatedStratum[i] = treatedStratum[i] * BINS + bin(cuts, t[i]);
            for (int i = 0; i < k.length; i++) controlStratum[i] = controlStratum[i] * BINS + bin(cuts, k[i]);
        }
    }

    /** The distinct interior decile cut points (10%..90%) of the pooled values. */
    static double[] decileCuts(double[] a, double[] b) {
        double[] pooled = new double[a.length + b.length];
        System.arraycopy(a, 0, pooled, 0, a.length);
        System.arraycopy(b, 0, pooled, a.length, b.length);
        Arrays.sort(pooled);
        double[] cuts = new double[BINS - 1];
        for (int q = 1; q < BINS; q++) cuts[q - 1] = Bootstrap.quantile(pooled, (double) q / BINS);
        return Arrays.stream(cuts).distinct().toArray();
    }

    /** Bin of a value: the number of cut points strictly below it (bins are (cut_{b-1}, cut_b]). */
    static int bin(double[] cuts, double value) {
        int b = 0;
        while (b < cuts.length && cuts[b] < value) b++;
        return b;
    }

    /**
     * Standardized mean difference (weighted means; null weights = all 1) over the pre-matching pooled standard
     * deviation sqrt((var_T + var_C) / 2) of the unweighted groups, so before and after share one scale.
     */
    static double smd(double[] t, double[] tWeight, double[] c, double[] cWeight) {
        double scale = Math.sqrt((variance(t) + variance(c)) / 2);
        double difference = weightedMean(t, tWeight) - weightedMean(c, cWeight);
        if (difference == 0) return 0;
        return difference / scale;
    }

    private static Estimate matchedGapInterval(List<StepRecord> treated, int[] treatedStratum, double[] treatedOutcome,
                                               List<StepRecord> control, int[] controlStratum, double[] controlOutcome,
                                               int strataCount, IntFunction<Bootstrap.Resamples> resamples, double level,
                                               long keptSteps) {
        // Per prompt and stratum: step counts and outcome sums of each group, so a resample only adds them up.
        Map<String, TreeMap<Integer, double[]>> perPrompt = new TreeMap<>();  // stratum -> {tCount, tSum, cCount, cSum}
        for (int i = 0; i < treated.size(); i++) {
            double[] a = perPrompt.computeIfAbsent(treated.get(i).promptId(), id -> new TreeMap<>())
                    .computeIfAbsent(treatedStratum[i], s -> new double[4]);
            a[0]++;
            a[1] += treatedOutcome[i];
        }
        for (int i = 0; i < control.size(); i++) {
            double[] a = perPrompt.computeIfAbsent(control.get(i).promptId(), id -> new TreeMap<>())
                    .computeIfAbsent(controlStratum[i], s -> new double[4]);
            a[2]++;
            a[3] += controlOutcome[i];
        }
        // Flattened for the resampling loop: prompt p owns entries first[p]..first[p+1]-1.
        int[] first = new int[perPrompt.size() + 1];
        int entries = 0, p0 = 0;
        for (TreeMap<Integer, double[]> strata : perPrompt.values()) {
            entries += strata.size();
            first[++p0] = entries;
        }
        int[] entryStratum = new int[entries];
        double[] entryValues = new double[4 * entries];
        int e0 = 0;
        for (TreeMap<Integer, double[]> strata : perPrompt.values())
            for (Map.Entry<Integer, double[]> e : strata.entrySet()) {
                entryStratum[e0] = e.getKey();
                System.arraycopy(e.getValue(), 0, entryValues, 4 * e0, 4);
                e0++;
            }
        double[] total = new double[4 * strataCount];
        Bootstrap.Interval interval = Bootstrap.clusterInterval(resamples.apply(perPrompt.size()), level, counts -> {
            Arrays.fill(total, 0);
            for (int p = 0; p < counts.length; p++) {
                if (counts[p] == 0) continue;
                for (int e = first[p]; e < first[p + 1]; e++)
                    for (int k = 0; k < 4; k++) total[4 * entryStratum[e] + k] += counts[p] * entryValues[4 * e + k];
            }
            double treatedKept = 0, weightedDifference = 0;
            for (int s = 0; s < strataCount; s++) {
                double tCount = total[4 * s], cCount = total[4 * s + 2];
                if (tCount == 0 || cCount == 0) continue;
                treatedKept += tCount;
                weightedDifference += tCount * (total[4 * s + 1] / tCount - total[4 * s + 3] / cCount);
            }
            return treatedKept == 0 ? Double.NaN : weightedDifference / treatedKept;
        });
        return new Estimate(interval.mean(), interval.lo(), interval.hi(), interval.n(), keptSteps);
    }

    private static double[] values(List<StepRecord> steps, ToDoubleFunction<StepRecord> f) {
        double[] out = new double[steps.size()];
        for (int i = 0; i < out.length; i++) out[i] = f.applyAsDouble(steps.get(i));
        return out;
    }

    private static void checkFinite(double[] values, List<StepRecord> steps, String covariate) {
        for (int i = 0; i < values.length; i++)
            if (!Double.isFinite(values[i])) {
                StepRecord s = steps.get(i);
                throw new IllegalArgumentException(covariate + " is " + values[i] + " at prompt " + s.promptId()
                        + " step " + s.step() + " (" + s.model() + "/" + s.regime() + "/" + s.history() + ")");
            }
    }

    private static double weightedMean(double[] values, double[] weights) {
        double sum = 0, weight = 0;
        for (int i = 0; i < values.length; i++) {
            double w = weights == null ? 1 : weights[i];
            sum += w * values[i];
            weight += w;
        }
        return sum / weight;
    }

    private static double variance(double[] values) {
        if (values.length < 2) return 0;
        double mean = weightedMean(values, null), sum = 0;
        for (double v : values) sum += (v - mean) * (v - mean);
        return sum / (values.length - 1);
    }
}
