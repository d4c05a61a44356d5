package cgap.gap.graft;

import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.Transformer;
import cgap.gap.lens.LensMetrics;
import cgap.gap.lens.LogitLens;
import cgap.gap.lens.ResidualCapture;
import cgap.gap.stats.Windows;

import java.util.Arrays;

/**
 * The graft experiment's per-prompt metric: a model teacher-forced on prompt + continuation, and at each position
 * that predicts a continuation token, the mean of KL(p_j || p_L) over the late decoder layers j >= floor(0.8 n)
 * (the final layer included, its KL being 0), p_L being the model's own final distribution (the grafted model's,
 * under a graft). Averaged over the continuation's positions.
 */
public final class LateKl {
    private LateKl() {}

    /**
     * @param scoredVocab ids the lens scores (the tokenizer's vocabulary; the rest of the embedding is padding)
     * @param prompt      the prompt as the model reads it (at least one token)
     * @param continuation the forced tokens (at least one); position prompt.length - 1 + s predicts continuation[s]
     */
    public static double measure(Transformer model, int scoredVocab, int[] prompt, int[] continuation) {
        if (prompt.length == 0 || continuation.length == 0) throw new IllegalArgumentException("late KL needs a prompt and a continuation");
        int K = continuation.length, n = model.layers();
        // The last continuation token predicts nothing that is measured, so it is not fed.
        int[] tokens = Arrays.copyOf(prompt, prompt.length + K - 1);
        System.arraycopy(continuation, 0, tokens, prompt.length, K - 1);

        HookRegistry hooks = new HookRegistry();
        ResidualCapture capture = ResidualCapture.attach(hooks, n, model.hidden(), prompt.length - 1);
        model.forward(tokens, model.newCache(), hooks, Transformer.Logits.NONE);
        float[][] residuals = capture.residuals();

        int lateStart = Windows.lateStart(n);
        float[][] late = Arrays.copyOfRange(residuals, lateStart + 1, n + 1); // readout l = j + 1, final (l = n) last
        LensMetrics m = new LogitLens(model, scoredVocab).measure(late, K);
        double sum = 0;
        for (double[] perPosition : m.kl()) for (double kl : perPosition) sum += kl;
        return sum / ((double) late.length * K);
    }
}
