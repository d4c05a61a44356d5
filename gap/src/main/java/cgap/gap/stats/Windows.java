package cgap.gap.stats;

import cgap.gap.study.StepRecord;

/**
 * The layer windows of the convergence-gap statistics and the per-step quantities measured over them.
 * Decoder layers are j = 0..n-1; decoder layer j is readout l = j + 1 of a {@link StepRecord}.
 */
public final class Windows {
    private Windows() {}

    /** First decoder layer of the late window: floor(0.8 n) (integer arithmetic, so no rounding surprise). */
    public static int lateStart(int n) { return (4 * n) / 5; }

    /** First decoder layer of the final half used by the headline CG: floor(n / 2). */
    public static int halfStart(int n) { return n / 2; }

    /** Normalized depth j / (n - 1) of decoder layer j (1 for a one-layer model). */
    public static double depth(int j, int n) { return n == 1 ? 1.0 : (double) j / (n - 1); }

    /** Mean of a per-decoder-layer curve over layers from..n-1. */
    public static double meanFrom(double[] perLayer, int from) {
        double sum = 0;
        for (int j = from; j < perLayer.length; j++) sum += perLayer[j];
        return sum / (perLayer.length - from);
    }

    /** KL(p_j || p_L) of decoder layer j at this step. */
    public static double kl(StepRecord step, int j) { return step.kl()[j + 1]; }

    /** Mean KL over the late window (j >= floor(0.8 n), final layer included). */
    public static double lateKl(StepRecord step) { return meanKl(step, lateStart(step.layers())); }

    /** Mean KL over the final half (j >= floor(n / 2)). */
    public static double finalHalfKl(StepRecord step) { return meanKl(step, halfStart(step.layers())); }

    private static double meanKl(StepRecord step, int from) {
        int n = step.layers();
        double sum = 0;
        for (int j = from; j < n; j++) sum += kl(step, j);
        return sum / (n - from);
    }

    /** Whether the model has a late pre-final layer (floor(0.8 n) <= n - 2, i.e. n >= 6). */
    public static boolean hasLatePreFinal(int n) { return lateStart(n) <= n - 2; }

    /**
     * Remaining adjacent JS path, averaged over the late pre-final layers j = floor(0.8 n)..n-2:
     * mean_j sum_{k=j..n-2} JS(p_k, p_{k+1}), where JS(p_k, p_{k+1}) between decoder layers k and k+1 is
     * adjacentJs[k + 1] (readouts k+1 and k+2). NaN when the model has no late pre-final layer.
     */
    public static double remainingJsPath(StepRecord step) {
        int n = step.layers();
        if (!hasLatePreFinal(n)) return Double.NaN;
        double total = 0, remaining = 0;
        // Walk from the last adjacent pair backwards, so remaining is the suffix sum for layer j.
        for (int j = n - 2; j >= lateStart(n); j--) {
            remaining += step.adjacentJs()[j + 1];
            total += remaining;
        }
        return total / (n - 1 - lateStart(n));
    }

    /**
     * Future top-1 flips, averaged over the late pre-final layers j: the number of k in j..n-2 whose top-1 differs
     * from that of layer k + 1 (top1 of readouts k+1 and k+2). NaN when the model has no late pre-final layer.
     */
    public static double futureFlips(StepRecord step) {
        int n = step.layers();
        if (!hasLatePreFinal(n)) return Double.NaN;
        int[] top1 = step.top1();
        double total = 0;
        int remaining = 0;
        for (int j = n - 2; j >= lateStart(n); j--) {
            if (top1[j + 1] != top1[j + 2]) remaining++;
            total += remaining;
        }
        return total / (n - 1 - lateStart(n));
    }
}
