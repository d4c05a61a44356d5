package cgap.gap.graft;

import java.util.List;

/**
 * Everything a graft run measured on one prompt: one line of results.jsonl.
 *
 * @param prompt       the prompt's id
 * @param category     its category ("" when the prompt file has none)
 * @param continuation the teacher's greedy continuation, forced through the host under every intervention
 * @param baseline     the un-intervened host's late KL on those tokens
 * @param rows         one per (window, intervention, seed)
 */
public record PromptResult(String prompt, String category, int[] continuation, double baseline, List<Row> rows) {

    /**
     * @param window       the window as asked for (early, mid, late or A-B)
     * @param layers       the host layers it covers, "A-B"
     * @param intervention {@link Intervention#label}
     * @param seed         index of the seed for the random controls, -1 for the others
     * @param lateKl       the host's late KL under the intervention
     * @param effect       lateKl - baseline
     */
    public record Row(String window, String layers, String intervention, int seed, double lateKl, double effect) {}
}
