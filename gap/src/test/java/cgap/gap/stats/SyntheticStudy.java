package cgap.gap.stats;

import cgap.gap.study.StepRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Seeded synthetic step records with a known structure, for tests of the statistics and the report. */
public final class SyntheticStudy {
    private SyntheticStudy() {}

    /**
     * PT (pt_raw) and IT (it_native) own-history steps plus IT-native replays through PT raw and IT raw.
     * KL at decoder layer j is 4 (1 - j/(n-1)) + noise for PT; IT adds itLateExtra on layers j >= n/2 but the final.
     */
    public static List<StepRecord> records(int prompts, int stepsPerPrompt, int n, double itLateExtra, long seed) {
        Random random = new Random(seed);
        List<StepRecord> out = new ArrayList<>();
        String[] categories = {"FACT", "REASONING"};
        for (int p = 0; p < prompts; p++) {
            String id = String.format("p%03d", p);
            String category = categories[p % 2];
            for (int t = 0; t < stepsPerPrompt; t++) {
                int token = 100 + random.nextInt(50);
                out.add(step(id, category, "pt", "pt_raw", "own", t, token, n, 0, random));
                out.add(step(id, category, "it", "it_native", "own", t, token + 1, n, itLateExtra, random));
                out.add(step(id, category, "pt", "pt_raw", "it_native", t, token + 1, n, 0.1, random));
                out.add(step(id, category, "it", "it_raw", "it_native", t, token + 1, n, itLateExtra / 2, random));
            }
        }
        return out;
    }

    static StepRecord step(String id, String category, String model, String regime, String history, int t, int token,
                           int n, double lateExtra, Random random) {
        double[] kl = new double[n + 1], entropy = new double[n + 1], adjacentJs = new double[n];
        int[] top1 = new int[n + 1];
        for (int j = 0; j < n - 1; j++) {
            double base = 4 * (1 - (double) j / (n - 1)) + 0.3 * random.nextDouble();
            kl[j + 1] = base + (j >= n / 2 ? lateExtra : 0);
        }
        kl[0] = 5 + random.nextDouble();
        for (int l = 0; l <= n; l++) {
            entropy[l] = 1 + random.nextDouble();
            top1[l] = l < n - 1 && random.nextDouble() < 0.3 + lateExtra / 4 ? token + 7 : token;
        }
        for (int l = 0; l < n; l++) adjacentJs[l] = 0.05 * random.nextDouble() + 0.02 * lateExtra;
        double prob = 0.3 + 0.7 * random.nextDouble();
        return new StepRecord(id, category, model, regime, history, t, token, kl, entropy, top1, adjacentJs,
                prob, 2 * (1 - prob) + 0.1 * random.nextDouble(), 3 * prob + random.nextDouble());
    }
}
