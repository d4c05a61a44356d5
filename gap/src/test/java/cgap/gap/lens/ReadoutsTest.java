package cgap.gap.lens;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The whole-distribution metrics against values worked out by hand. */
class ReadoutsTest {

    @Test
    void metricsOfSmallDistributions() {
        // Row 0: logits log(1), log(3) -> p = (1/4, 3/4). Row 1: equal logits -> q = (1/2, 1/2). Row 2: p again, shifted.
        float a = (float) Math.log(3);
        Readouts x = Readouts.ofLogits(new float[] {0f, a, 5f, 5f, 2f, 2f + a}, 3, 2);
        double p0 = 0.25, p1 = 0.75;
        assertEquals(p0 * Math.log(p0 / 0.5) + p1 * Math.log(p1 / 0.5), x.kl(0, 1), 1e-7);
        assertEquals(0.5 * Math.log(0.5 / p0) + 0.5 * Math.log(0.5 / p1), x.kl(1, 0), 1e-7);
        assertEquals(0, x.kl(0, 2), 1e-7);
        assertEquals(-(p0 * Math.log(p0) + p1 * Math.log(p1)), x.entropy(0), 1e-7);
        assertEquals(Math.log(2), x.entropy(1), 1e-12);
        assertEquals(1, x.top1(0));
        assertEquals(0, x.top1(1), "ties go to the lowest id");
        assertEquals(0, x.margin(1));
        assertEquals(1, x.rank(0, 0));
        assertEquals(0, x.rank(1, 1), "an equal score is not strictly higher");
        double m0 = (p0 + 0.5) / 2, m1 = (p1 + 0.5) / 2;
        double js = 0.5 * (p0 * Math.log(p0 / m0) + p1 * Math.log(p1 / m1)) + 0.5 * (0.5 * Math.log(0.5 / m0) + 0.5 * Math.log(0.5 / m1));
        assertEquals(js, x.js(0, x, 1), 1e-7);
        assertEquals(js, x.js(1, x, 0), 1e-7);
        assertEquals(0, x.js(0, x, 2), 1e-7);
    }

    @Test
    void disjointSupportsGiveLn2() {
        float ninf = Float.NEGATIVE_INFINITY;
        Readouts x = Readouts.ofLogits(new float[] {0f, ninf, ninf, 0f}, 2, 2);
        assertEquals(Math.log(2), x.js(0, x, 1), 1e-15);
        assertEquals(0, x.entropy(0), 0);
    }
}
