package cgap.gap.lens;

/**
 * The contract's logit-lens metrics (shared/HOOKS-AND-METRICS.md) for R readouts at T token positions, each
 * indexed [readout][position]. For the usual stack of l = 0..L readouts, R = L + 1 and readout L is the final one.
 *
 * @param kl             KL(p_l || p_final) in nats
 * @param klRev          KL(p_final || p_l) in nats
 * @param entropy        H(p_l) in nats
 * @param top1           argmax of readout l, ties to the lowest id
 * @param finalTop1Rank  how many ids score strictly higher under readout l than the final readout's top-1
 * @param finalTop1Prob  p_final of its top-1 id, per position
 * @param finalEntropy   H(p_final), per position
 * @param finalMargin    top1 - top2 of the final logits (= log p_final(top1) - log p_final(top2)), per position
 */
public record LensMetrics(double[][] kl, double[][] klRev, double[][] entropy, int[][] top1, int[][] finalTop1Rank,
                          double[] finalTop1Prob, double[] finalEntropy, double[] finalMargin) {

    public int readouts() { return kl.length; }

    public int positions() { return finalEntropy.length; }
}
