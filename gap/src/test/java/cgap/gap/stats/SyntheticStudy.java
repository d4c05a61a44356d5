package cgap.gap.stats;

import cgap.gap.study.StepRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Seeded synthetic step records with a known structure, for tests of the statistics and the report. */
public final class SyntheticStudy {
    private SyntheticStudy() {}

    /**
     * PT (pt_raw) and IT (it_native) own-history steps, plus (as the study runner writes them) every other regime
     * of both models replaying each native continuation. KL at decoder layer j is 4 (1 - j/(n-1)) + noise; IT in
     * it_native adds itLateExtra on layers j >= n/2 except the final one, IT in other regimes half of it.
     */
    public static List<StepRecord> records(int prompts, int stepsPerPrompt, int n, double itLateExtra, long seed) {
        Random random = new Random(seed);
        List<StepRecord> out = new ArrayList<>();
        String[] categories = {"FACT", "REASONING"};
        String[] regimes = {"pt_raw", "it_native", "it_raw"};
        for (int p = 0; p < prompts; p++) {
            String id = String.format("p%03d", p);
            String category = categories[p % 2];
            for (int t = 0; t < stepsPerPrompt; t++) {
                int ptToken = 100 + random.nextInt(50), itToken = ptToken + 1;
                out.add(step(id, category, "pt", "pt_raw", "own", t, ptToken, n, 0, random));
                out.add(step(id, category, "it", "it_native", "own", t, itToken, n, itLateExtra, random));
                for (String history : new String[]{"it_native", "pt_raw"})
                    for (String regime : regimes)
                        for (String model : new String[]{"pt", "it"}) {
                            if ((model + "/" + regime).equals(history.equals("pt_raw") ? "pt/pt_raw" : "it/it_native"))
                                continue;  // that model's own cell
                            double extra = model.equals("pt") ? 0 : regime.equals("it_native") ? itLateExtra : itLateExtra / 2;
                            out.add(step(id, category, model, regime, history, t,
                                    history.equals("pt_raw") ? ptToken : itToken, n, extra, random));
                        }
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
