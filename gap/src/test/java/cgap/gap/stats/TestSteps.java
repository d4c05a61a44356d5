package cgap.gap.stats;

import cgap.gap.study.StepRecord;

/** Hand-made step records for tests. */
final class TestSteps {
    private TestSteps() {}

    /** A record whose decoder layer j has KL decoderKl[j] (readout 0, the embeddings, gets 99: never averaged). */
    static StepRecord kl(String promptId, String model, String regime, String history, int step, int token,
                         double... decoderKl) {
        return withEndpoint(promptId, "", model, regime, history, step, token, decoderKl, 0.5, 1.0, 2.0);
    }

    static StepRecord withEndpoint(String promptId, String category, String model, String regime, String history,
                                   int step, int token, double[] decoderKl, double finalTop1Prob, double finalEntropy,
                                   double finalMargin) {
        int n = decoderKl.length;
        double[] kl = new double[n + 1];
        kl[0] = 99;
        System.arraycopy(decoderKl, 0, kl, 1, n);
        return new StepRecord(promptId, category, model, regime, history, step, token, kl, new double[n + 1],
                new int[n + 1], new double[n], finalTop1Prob, finalEntropy, finalMargin);
    }

    /** n decoder layers with the same KL v on every layer but the final (0). */
    static double[] flat(int n, double v) {
        double[] out = new double[n];
        for (int j = 0; j < n - 1; j++) out[j] = v;
        return out;
    }
}
