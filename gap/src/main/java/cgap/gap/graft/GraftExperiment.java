package cgap.gap.graft;

import cgap.engine.graft.LayerWindow;
import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.Generator;
import cgap.engine.runtime.Transformer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The matched-prefix graft experiment on one prompt. The teacher (the IT model, reading its chat template)
 * continues the prompt greedily; the host is forced through the same continuation, un-intervened and then under
 * each intervention in each window; the effect of an intervention is the change in the host's late KL
 * ({@link LateKl}) on the same tokens.
 *
 * @param host         the host (PT when grafting IT MLPs in, IT when swapping PT MLPs in)
 * @param donor        the checkpoint whose MLPs are grafted
 * @param teacher      the IT model, un-intervened (the host or the donor)
 * @param teacherStops ids that end the teacher's continuation (included in it)
 * @param scoredVocab  ids the lens scores
 * @param windows      named windows (as asked for) and the layers they cover
 * @param interventions what to run in each window (the graft and its controls)
 * @param seeds        draws of each random control
 * @param runSeed      seed the random controls' directions derive from
 * @param maxNewTokens length limit of the teacher's continuation
 */
public record GraftExperiment(Transformer host, Transformer donor, Transformer teacher, Set<Integer> teacherStops,
                              int scoredVocab, List<NamedWindow> windows, List<Intervention> interventions, int seeds,
                              long runSeed, int maxNewTokens) {

    /** A window as the user named it and the layers it resolved to for this depth. */
    public record NamedWindow(String name, LayerWindow layers) {}

    public GraftExperiment {
        if (seeds < 1) throw new IllegalArgumentException("--seeds must be at least 1, got " + seeds);
        if (maxNewTokens < 1) throw new IllegalArgumentException("--max-new-tokens must be at least 1, got " + maxNewTokens);
        for (NamedWindow w : windows) {
            for (Intervention i : interventions) i.apply(host, donor, w.layers(), 0); // refuses a bad graft before any work
        }
    }

    public PromptResult measure(GraftPrompt p) {
        int[] continuation = Generator.greedy(teacher, p.teacherPrompt(), maxNewTokens, teacherStops, HookRegistry.none(), id -> {});
        for (int id : continuation) {
            if (id >= scoredVocab) {
                throw new IllegalArgumentException("prompt " + p.id() + ": the teacher's continuation holds token " + id
                        + ", outside the host's vocabulary (" + scoredVocab + ")");
            }
        }
        double baseline = LateKl.measure(host, scoredVocab, p.hostPrompt(), continuation);
        List<PromptResult.Row> rows = new ArrayList<>();
        for (NamedWindow w : windows) {
            for (Intervention i : interventions) {
                for (int s = 0; s < (i.seeded ? seeds : 1); s++) {
                    long seed = i.seeded ? Intervention.promptSeed(runSeed, s, p.id()) : 0;
                    Transformer intervened = i.apply(host, donor, w.layers(), seed);
                    double value = LateKl.measure(intervened, scoredVocab, p.hostPrompt(), continuation);
                    rows.add(new PromptResult.Row(w.name(), w.layers().toString(), i.label, i.seeded ? s : -1, value, value - baseline));
                }
            }
        }
        return new PromptResult(p.id(), p.category(), Arrays.copyOf(continuation, continuation.length), baseline, rows);
    }
}
