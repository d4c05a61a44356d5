package cgap.gap.study;

/**
 * The logit-lens readouts of one model at one token step: the unit every statistic of the study averages.
 * Arrays over readouts are indexed l = 0..L (l = 0: embeddings; l = j + 1: decoder layer j; l = L: final).
 *
 * @param promptId      the prompt's id
 * @param category      the prompt's category ("" when the prompt file has none)
 * @param model         which checkpoint read the tokens: "pt" or "it"
 * @param regime        how the prompt was presented: "pt_raw" (format B, raw), "it_native" (format A in the
 *                      chat template), "it_raw" (format A... raw, for replay controls)
 * @param history       whose tokens were read: "own" (the model's own greedy continuation), or for replays the
 *                      source of the forced continuation, e.g. "it_native" or "pt_raw"
 * @param step          0-based index of the generated token step
 * @param token         the token chosen (own history) or forced (replay) at this step
 * @param kl            KL(p_l || p_L) in nats, [L+1]
 * @param entropy       H(p_l) in nats, [L+1]
 * @param top1          argmax of p_l (ties to the lowest id), [L+1]
 * @param adjacentJs    JS(p_l, p_{l+1}) in nats, [L] (l = 0..L-1)
 * @param finalTop1Prob p_L of its top-1 token
 * @param finalEntropy  H(p_L)
 * @param finalMargin   log p_L(top1) - log p_L(top2)
 */
public record StepRecord(String promptId, String category, String model, String regime, String history,
                         int step, int token, double[] kl, double[] entropy, int[] top1, double[] adjacentJs,
                         double finalTop1Prob, double finalEntropy, double finalMargin) {

    /** Number of decoder layers n (= L). */
    public int layers() { return kl.length - 1; }
}
