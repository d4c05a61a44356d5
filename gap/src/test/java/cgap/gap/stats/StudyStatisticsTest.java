package cgap.gap.stats;

import cgap.gap.stats.StudySummary.Cell;
import cgap.gap.stats.StudySummary.Estimate;
import cgap.gap.stats.StudySummary.GapPoint;
import cgap.gap.stats.StudySummary.Headline;
import cgap.gap.stats.StudySummary.Replay;
import cgap.gap.study.StepRecord;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static cgap.gap.stats.TestSteps.flat;
import static org.junit.jupiter.api.Assertions.*;

class StudyStatisticsTest {
    private static final int N = 10;  // final half j >= 5, late j >= 8: flat v gives final-half 0.8 v, late 0.5 v

    private static void add(List<StepRecord> out, String prompt, String category, String model, String regime,
                            int steps, double v) {
        for (int t = 0; t < steps; t++)
            out.add(TestSteps.withEndpoint(prompt, category, model, regime, "own", t, 5, flat(N, v), 0.5, 1, 2));
    }

    /** PT: a 1 step at 1.0, b 3 steps at 2.0; IT: a 2 steps at 3.0, b 3 steps at 1.5. */
    private static List<StepRecord> handMade() {
        List<StepRecord> out = new ArrayList<>();
        add(out, "a", "X", "pt", "pt_raw", 1, 1.0);
        add(out, "b", "Y", "pt", "pt_raw", 3, 2.0);
        add(out, "a", "X", "it", "it_native", 2, 3.0);
        add(out, "b", "Y", "it", "it_native", 3, 1.5);
        return out;
    }

    @Test
    void headlineByHand() {
        StudySummary s = StudyStatistics.summarize(handMade(), 1, 200);
        Headline h = s.headline();
        // final half: PT a 0.8, b 1.6 -> 1.2; IT a 2.4, b 1.2 -> 1.8
        assertEquals(1.2, h.ptFinalHalfKl().mean(), 1e-12);
        assertEquals(1.8, h.itFinalHalfKl().mean(), 1e-12);
        assertEquals(0.6, h.cg().mean(), 1e-12);
        // steps pooled: PT (0.8 + 3 * 1.6) / 4 = 1.4, IT (2 * 2.4 + 3 * 1.2) / 5 = 1.68
        assertEquals(0.28, h.cgStepPooled().mean(), 1e-12);
        // late: PT (0.5 + 1.0) / 2, IT (1.5 + 0.75) / 2
        assertEquals(0.75, h.ptLateKl().mean(), 1e-12);
        assertEquals(1.125, h.itLateKl().mean(), 1e-12);
        assertEquals(0.375, h.lateKlGap().mean(), 1e-12);
        assertEquals(2, h.cg().prompts());
        assertEquals(9, h.cg().steps());
        assertEquals(4, h.ptFinalHalfKl().steps());
        assertEquals(0, h.ptOnlyPrompts());
        assertTrue(h.pairing().startsWith("paired"), h.pairing());
        // paired per-prompt differences are +1.6 and -0.4: the interval lies within them
        assertTrue(h.cg().lo() >= -0.4 - 1e-12 && h.cg().hi() <= 1.6 + 1e-12, h.cg().toString());

        Cell pt = s.cell("pt", "pt_raw", "own");
        assertEquals(N, pt.curve().size());
        assertEquals(1.5, pt.curve().get(3).mean(), 1e-12);
        assertEquals(1.0 / 3, pt.curve().get(3).depth(), 1e-15);
        assertEquals(0, pt.curve().get(N - 1).mean());
        assertEquals(8, pt.lateStart());
        assertEquals(5, pt.halfStart());
        assertEquals(2.25, s.cell("it", "it_native", "own").curve().get(3).mean(), 1e-12);

        assertEquals(N, s.gapCurve().size());
        assertEquals(0.75, s.gapCurve().get(3).mean(), 1e-12);
        assertEquals(0, s.gapCurve().get(N - 1).mean(), 1e-15);

        assertEquals(List.of("X", "Y"), s.categories().stream().map(StudySummary.Category::category).toList());
        assertEquals(2.4 - 0.8, s.categories().get(0).cg().mean(), 1e-12);
        assertEquals(1.2 - 1.6, s.categories().get(1).cg().mean(), 1e-12);
        assertEquals(1, s.categories().get(1).cg().prompts());
        // n = 10 has one late pre-final layer (8); these records have no JS movement and no top-1 flips
        assertEquals(0, s.endpointFree().jsPathGap().mean());
        assertEquals(0, s.endpointFree().flipsGap().mean());
    }

    @Test
    void promptsOnlyOneModelHasCountForThatModel() {
        List<StepRecord> steps = handMade();
        steps.removeIf(r -> r.model().equals("it") && r.promptId().equals("b"));
        Headline h = StudyStatistics.summarize(steps, 1, 200).headline();
        assertEquals(1, h.sharedPrompts());
        assertEquals(1, h.ptOnlyPrompts());
        assertEquals(0, h.itOnlyPrompts());
        assertTrue(h.pairing().startsWith("partly paired"), h.pairing());
        assertEquals(2.4 - 1.2, h.cg().mean(), 1e-12);
        assertEquals(2, h.cg().prompts(), "resampled from the union of prompt ids");
    }

    @Test
    void differentDepthsMeetOnTheDeeperModelsGrid() {
        // PT n = 6 with KL 5 (1 - depth), IT n = 11 with 8 (1 - depth): linear, so interpolation is exact
        List<StepRecord> steps = new ArrayList<>();
        for (String prompt : List.of("a", "b")) {
            double[] ptKl = new double[6], itKl = new double[11];
            for (int j = 0; j < 6; j++) ptKl[j] = 5 * (1 - j / 5.0);
            for (int j = 0; j < 11; j++) itKl[j] = 8 * (1 - j / 10.0);
            steps.add(TestSteps.kl(prompt, "pt", "pt_raw", "own", 0, 1, ptKl));
            steps.add(TestSteps.kl(prompt, "it", "it_native", "own", 0, 1, itKl));
        }
        StudySummary s = StudyStatistics.summarize(steps, 1, 50);
        List<GapPoint> gap = s.gapCurve();
        assertEquals(11, gap.size());
        for (int g = 0; g < 11; g++) {
            assertEquals(g / 10.0, gap.get(g).depth(), 1e-15);
            assertEquals(3 * (1 - g / 10.0), gap.get(g).mean(), 1e-12, "depth " + g / 10.0);
        }
        // each model's own window: PT j >= 3 (5 * (0.4 + 0.2 + 0) / 3 = 1), IT j >= 5 (8 * 0.25 = 2)
        assertEquals(1.0, s.headline().cg().mean(), 1e-12);
        assertEquals(6, s.headline().ptLayers());
        assertEquals(11, s.headline().itLayers());
    }

    @Test
    void replayContrastsPairSameTokensAndCountMismatches() {
        List<StepRecord> steps = new ArrayList<>();
        int[] itTokens = {10, 11, 12};
        for (String prompt : List.of("a", "b")) {
            double shift = prompt.equals("a") ? 0 : 1;
            for (int t = 0; t < 3; t++) {
                steps.add(TestSteps.kl(prompt, "it", "it_native", "own", t, itTokens[t], flat(N, 2 + shift + t)));
                // PT replays IT's tokens, except for a wrong token at b, step 2
                int token = prompt.equals("b") && t == 2 ? 99 : itTokens[t];
                steps.add(TestSteps.kl(prompt, "pt", "pt_raw", "it_native", t, token, flat(N, 1 + t)));
                steps.add(TestSteps.kl(prompt, "pt", "pt_raw", "own", t, 50 + t, flat(N, 1)));
                // a cell of another kind (e.g. a same-history comparison): reported, never contrasted
                steps.add(TestSteps.kl(prompt, "pt_vs_it", "pt_raw", "it_native", t, itTokens[t], flat(N, 0.1)));
            }
        }
        StudySummary s = StudyStatistics.summarize(steps, 1, 100);
        assertEquals(1, s.replay().size(), s.replay().toString());
        Replay r = s.replay().getFirst();
        assertTrue(r.audit());
        assertEquals("it_native", r.history());
        assertEquals("it/it_native/own", r.minuend());
        assertEquals("pt/pt_raw/it_native", r.subtrahend());
        assertEquals(5, r.pairedSteps());
        assertEquals(1, r.tokenMismatches());
        // late KL is half the flat value: per step differences (1 + shift) / 2; prompt a 0.5, prompt b 1.0
        assertEquals(0.75, r.paired().mean(), 1e-12);
        assertEquals(2, r.paired().prompts());
        assertNotNull(r.matched());
        assertNotNull(s.cell("pt_vs_it", "pt_raw", "it_native"), "unknown cells are summarized per cell");
        assertEquals(0.05, s.cell("pt_vs_it", "pt_raw", "it_native").lateKl().mean(), 1e-12);
    }

    @Test
    void syntheticStudyIsDeterministicAndConsistent() throws Exception {
        List<StepRecord> steps = SyntheticStudy.records(8, 4, 12, 0.6, 3);
        StudySummary a = StudyStatistics.summarize(steps, 7, 300), b = StudyStatistics.summarize(steps, 7, 300);
        assertEquals(a.toJson(), b.toJson());
        assertNotEquals(a.toJson(), StudyStatistics.summarize(steps, 8, 300).toJson(), "the seed matters");

        Estimate jsGap = a.endpointFree().jsPathGap();
        assertEquals(a.endpointFree().itJsPath().mean() - a.endpointFree().ptJsPath().mean(), jsGap.mean(), 1e-12);
        assertTrue(a.endpointFree().flipsGap().mean() > 0, "the synthetic IT flips more");
        // IT adds 0.6 on layers 6..10 of 12: final half (6..11) gains 0.5, late window (9..11) 0.4
        assertEquals(0.5, a.headline().cg().mean(), 0.05);
        assertEquals(0.4, a.headline().lateKlGap().mean(), 0.05);
        assertEquals(0.4, a.endpointMatched().lateKlGap().mean(), 0.05);
        // audit: per history IT native - PT raw, IT raw - PT raw, IT native - IT raw; then each replay cell minus
        // the history's native cell: 5 replay cells per history, 2 of them already compared with it in the audit
        assertEquals(2 * 3 + 2 * 3, a.replay().size());
        assertEquals(6, a.replay().stream().filter(Replay::audit).count());

        JsonNode json = new ObjectMapper().readTree(a.toJson());
        assertEquals(a.headline().cg().mean(), json.at("/headline/cg/mean").asDouble());
        assertEquals(12, json.at("/cells/0/curve").size());
    }

    @Test
    void undefinedNumbersAreNullInJson() throws Exception {
        Estimate undefined = new Estimate(Double.NaN, Double.NaN, Double.POSITIVE_INFINITY, 0, 0);
        Cell cell = new Cell("pt", "pt_raw", "own", 4, 0, 0, 3, 2, undefined, undefined, null, null, List.of());
        StudySummary s = new StudySummary(1, 10, 0.95, List.of(cell), null, List.of(), List.of(), null, null,
                List.of(), List.of());
        JsonNode json = new ObjectMapper().readTree(s.toJson());
        assertTrue(json.at("/cells/0/lateKl/mean").isNull());
        assertTrue(json.at("/cells/0/lateKl/hi").isNull());
        assertEquals(0.95, json.at("/level").asDouble());
    }

    @Test
    void badRecordsAreRefusedNamingTheStep() {
        List<StepRecord> steps = handMade();
        StepRecord good = steps.getFirst();
        steps.add(new StepRecord("z", "", "pt", "pt_raw", "own", 4, 1, good.kl(), good.entropy(), good.top1(),
                new double[3], 0.5, 1, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StudyStatistics.summarize(steps, 1, 10));
        assertTrue(e.getMessage().contains("prompt z") && e.getMessage().contains("adjacentJs"), e.getMessage());

        List<StepRecord> mixed = handMade();
        mixed.add(TestSteps.kl("c", "pt", "pt_raw", "own", 0, 1, flat(12, 1)));
        e = assertThrows(IllegalArgumentException.class, () -> StudyStatistics.summarize(mixed, 1, 10));
        assertTrue(e.getMessage().contains("pt/pt_raw/own mixes 10 and 12 layers"), e.getMessage());
    }

    @Test
    void withoutNativePairOnlyCellsAreReported() {
        List<StepRecord> steps = handMade();
        steps.removeIf(r -> r.model().equals("it"));
        StudySummary s = StudyStatistics.summarize(steps, 1, 10);
        assertNull(s.headline());
        assertTrue(s.gapCurve().isEmpty());
        assertEquals(1, s.cells().size());
        assertTrue(s.notes().stream().anyMatch(n -> n.startsWith("no headline")), s.notes().toString());
    }
}
