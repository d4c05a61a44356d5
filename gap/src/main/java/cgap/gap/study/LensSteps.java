package cgap.gap.study;

import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.KvCache;
import cgap.engine.runtime.Transformer;
import cgap.gap.lens.Readouts;
import cgap.gap.lens.ResidualCapture;
import cgap.kernels.Parallel;

import java.util.Arrays;

/**
 * The lens at token steps. Step s is scored at the position whose next-token distribution chose (or, forced,
 * is followed by) token s: the last prompt position for step 0, then each generated token's position.
 */
public final class LensSteps {
    private LensSteps() {}

    /** Sees each step's readouts (all L + 1 layers at that position) with the token chosen or forced there. */
    @FunctionalInterface
    public interface StepSink {
        void accept(int step, int token, Readouts readouts);
    }

    /**
     * Greedy decoding with the lens at every step: up to {@code maxNewTokens} tokens, stopping after an id in
     * {@code stopIds}. The token is the final readout's top-1 over the scored ids. Returns the continuation.
     */
    public static int[] decode(StudyModel m, int[] prompt, int maxNewTokens, StepSink sink) {
        Transformer t = m.transformer();
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt has no tokens");
        HookRegistry hooks = new HookRegistry();
        ResidualCapture capture = ResidualCapture.attach(hooks, t.layers(), t.hidden(), prompt.length - 1);
        KvCache cache = t.newCache();
        t.forward(prompt, cache, hooks, Transformer.Logits.NONE);
        int[] out = new int[maxNewTokens];
        int n = 0;
        for (int step = 0; step < maxNewTokens; step++) {
            Readouts x = Readouts.of(t, m.scoredVocab, capture.position(0), t.layers() + 1);
            int token = x.top1(t.layers());
            sink.accept(step, token, x);
            out[n++] = token;
            if (m.eosIds.contains(token) || step == maxNewTokens - 1) break;
            capture.clear();
            t.forward(new int[] {token}, cache, hooks, Transformer.Logits.NONE);
        }
        return Arrays.copyOf(out, n);
    }

    /** Residual rows [L+1, d] of every step of {@code continuation} forced after {@code prompt}, one array per step. */
    public static float[][] forcedResiduals(StudyModel m, int[] prompt, int[] continuation) {
        Transformer t = m.transformer();
        if (continuation.length == 0) return new float[0][];
        int[] tokens = new int[prompt.length + continuation.length - 1];
        System.arraycopy(prompt, 0, tokens, 0, prompt.length);
        System.arraycopy(continuation, 0, tokens, prompt.length, continuation.length - 1);
        HookRegistry hooks = new HookRegistry();
        ResidualCapture capture = ResidualCapture.attach(hooks, t.layers(), t.hidden(), prompt.length - 1);
        t.forward(tokens, t.newCache(), hooks, Transformer.Logits.NONE);
        float[][] steps = new float[continuation.length][];
        for (int s = 0; s < steps.length; s++) steps[s] = capture.position(s);
        return steps;
    }

    /** The study's per-step record from one step's readouts (readout L is the final one). */
    public static StepRecord record(Prompt p, String model, Regime regime, String history, int step, int token, Readouts x) {
        int L = x.rows() - 1;
        double[] kl = new double[L + 1], entropy = new double[L + 1], js = new double[L];
        int[] top1 = new int[L + 1];
        Parallel.forRange(L + 1, l -> {
            kl[l] = l == L ? 0 : x.kl(l, L);
            entropy[l] = x.entropy(l);
            top1[l] = x.top1(l);
            if (l < L) js[l] = x.js(l, x, l + 1);
        });
        int finalTop1 = top1[L];
        return new StepRecord(p.id(), p.category(), model, regime.label, history, step, token, kl, entropy, top1, js,
                Math.exp(x.logProb(L, finalTop1)), entropy[L], x.margin(L));
    }

    /** JS(p^a_l, p^b_l) for every readout l of two models at the same step (same layer count and scored ids). */
    public static double[] sameHistoryJs(Readouts a, Readouts b) {
        double[] js = new double[a.rows()];
        Parallel.forRange(js.length, l -> js[l] = a.js(l, b, l));
        return js;
    }
}
