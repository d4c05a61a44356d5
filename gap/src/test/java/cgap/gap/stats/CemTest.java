package cgap.gap.stats;

import cgap.gap.stats.StudySummary.Balance;
import cgap.gap.stats.StudySummary.Matched;
import cgap.gap.study.StepRecord;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class CemTest {
    private static final int N = 10;

    /**
     * Steps whose late KL is 3 (1 - p) + effect, p being the final top-1 probability (entropy and margin follow p):
     * the endpoint confounds late KL, and effect is the only true group difference.
     */
    private static List<StepRecord> group(String model, double effect, double[] levels, int[] counts) {
        List<StepRecord> out = new ArrayList<>();
        int step = 0;
        for (int level = 0; level < levels.length; level++)
            for (int i = 0; i < counts[level]; i++) {
                double p = levels[level], lateKl = 3 * (1 - p) + effect;
                double[] kl = new double[N];
                kl[8] = lateKl;
                kl[9] = lateKl;  // both late layers (8, 9) carry it, so Windows.lateKl is exactly lateKl
                String prompt = "q" + (step % 10);  // ten prompts, each holding every level
                out.add(TestSteps.withEndpoint(prompt, "", model, "r", "own", step++, 1, kl, p, 2 * (1 - p), 5 * p));
            }
        return out;
    }

    private static Bootstrap.Resamples resamples(int prompts) { return Bootstrap.resamples(prompts, 1, 300); }

    @Test
    void matchingRemovesTheEndpointConfound() {
        double[] levels = {0.2, 0.5, 0.9};
        List<StepRecord> it = group("it", 0.3, levels, new int[]{60, 30, 10});
        List<StepRecord> pt = group("pt", 0.0, levels, new int[]{10, 30, 60});
        Matched m = Cem.match("it", it, "pt", pt, CemTest::resamples, 0.95);

        // unmatched: IT 0.3 + 3 (1 - 0.36) = 2.22, PT 3 (1 - 0.71) = 0.87
        assertEquals(2.22 - 0.87, m.unmatchedGap(), 1e-12);
        assertEquals(0.3, m.lateKlGap().mean(), 1e-12, "CEM recovers the true effect");
        assertEquals(0.3, m.lateKlGap().lo(), 1e-9, "every resample recovers it too");
        assertEquals(0.3, m.lateKlGap().hi(), 1e-9);
        assertEquals(3, m.strata());
        assertEquals(3, m.matchedStrata());
        assertEquals(1.0, m.retentionTreated());
        assertEquals(1.0, m.retentionControl());
        assertEquals(10, m.lateKlGap().prompts());

        // before: the groups differ a lot on every covariate; after: balanced exactly
        double[] itP = it.stream().mapToDouble(StepRecord::finalTop1Prob).toArray();
        double[] ptP = pt.stream().mapToDouble(StepRecord::finalTop1Prob).toArray();
        double smdBefore = (mean(itP) - mean(ptP)) / Math.sqrt((variance(itP) + variance(ptP)) / 2);
        Balance prob = m.balance().getFirst();
        assertEquals("final_top1_prob", prob.covariate());
        assertEquals(smdBefore, prob.smdBefore(), 1e-12);
        assertTrue(m.maxSmdBefore() > 1, "confounded before: " + m.maxSmdBefore());
        for (Balance b : m.balance()) assertEquals(0, b.smdAfter(), 1e-12, b.covariate());
        assertEquals(0, m.maxSmdAfter(), 1e-12);
    }

    @Test
    void strataWithOneGroupAreDroppedAndCounted() {
        double[] levels = {0.05, 0.2, 0.5, 0.9};
        List<StepRecord> it = group("it", 0.3, levels, new int[]{20, 40, 30, 10});
        List<StepRecord> pt = group("pt", 0.0, levels, new int[]{0, 10, 30, 60});
        Matched m = Cem.match("it", it, "pt", pt, CemTest::resamples, 0.95);
        assertEquals(4, m.strata());
        assertEquals(3, m.matchedStrata());
        assertEquals(80, m.treatedKept());
        assertEquals(0.8, m.retentionTreated(), 1e-15);
        assertEquals(1.0, m.retentionControl());
        assertEquals(0.3, m.lateKlGap().mean(), 1e-12);
    }

    @Test
    void weightsFollowTheTreatedDistributionOverStrata() {
        // Outcome differs within the groups by stratum only; IT 3:1 over two strata, PT 1:3.
        // Matched gap = sum_s (mT_s / mT)(meanT_s - meanC_s) = 0.75 (1.0 - 0.5) + 0.25 (2.0 - 1.0) = 0.625.
        List<StepRecord> it = new ArrayList<>(), pt = new ArrayList<>();
        for (int i = 0; i < 30; i++) it.add(step("it", i, 0.2, 1.0));
        for (int i = 0; i < 10; i++) it.add(step("it", 30 + i, 0.8, 2.0));
        for (int i = 0; i < 10; i++) pt.add(step("pt", i, 0.2, 0.5));
        for (int i = 0; i < 30; i++) pt.add(step("pt", 10 + i, 0.8, 1.0));
        Matched m = Cem.match("it", it, "pt", pt, CemTest::resamples, 0.95);
        assertEquals(0.625, m.lateKlGap().mean(), 1e-12);
        assertEquals((30 * 1.0 + 10 * 2.0) / 40 - (10 * 0.5 + 30 * 1.0) / 40, m.unmatchedGap(), 1e-12);
    }

    @Test
    void binsAreDecilesOfThePooledValues() {
        double[] a = new double[50], b = new double[50];
        for (int i = 0; i < 50; i++) {
            a[i] = i;
            b[i] = 50 + i;
        }
        double[] cuts = Cem.decileCuts(a, b);  // pooled 0..99: cuts at 9.9, 19.8, ..., 89.1
        assertEquals(9, cuts.length);
        assertEquals(9.9, cuts[0], 1e-12);
        assertEquals(89.1, cuts[8], 1e-12);
        assertEquals(0, Cem.bin(cuts, 9.9), "a value on a cut belongs to the lower bin");
        assertEquals(1, Cem.bin(cuts, 10));
        assertEquals(9, Cem.bin(cuts, 99));
        // pooled 1 x5, 2 x5: cuts 1 (10%..40%), 1.5 (50%), 2 (60%..90%)
        assertArrayEquals(new double[]{1, 1.5, 2}, Cem.decileCuts(new double[]{1, 1, 1, 1, 1}, new double[]{2, 2, 2, 2, 2}),
                "tied cut points collapse");
    }

    private static StepRecord step(String model, int i, double p, double lateKl) {
        double[] kl = new double[N];
        kl[8] = lateKl;
        kl[9] = lateKl;
        return TestSteps.withEndpoint("q" + (i % 10), "", model, "r", "own", i, 1, kl, p, 1 - p, 4 * p);
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    private static double variance(double[] v) {
        double m = mean(v), s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return s / (v.length - 1);
    }
}
