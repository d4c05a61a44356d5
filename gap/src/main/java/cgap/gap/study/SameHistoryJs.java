package cgap.gap.study;

/**
 * JS(p^PT_l || p^IT_l) in nats at every readout l, both models reading the identical token history at one step:
 * the prompt as presented in {@code regime}, then the continuation of {@code history} forced.
 */
public record SameHistoryJs(String promptId, String category, String regime, String history, int step, int token,
                            double[] js) {
}
