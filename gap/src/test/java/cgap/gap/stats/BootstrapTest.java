package cgap.gap.stats;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class BootstrapTest {
    @Test
    void sameSeedSameInterval() {
        double[] values = {0.3, 1.7, 2.2, 0.9, 1.1, 4.0, 0.2, 1.5};
        Bootstrap.Interval a = Bootstrap.percentileInterval(values, 11, 500, 0.95);
        Bootstrap.Interval b = Bootstrap.percentileInterval(values, 11, 500, 0.95);
        Bootstrap.Interval other = Bootstrap.percentileInterval(values, 12, 500, 0.95);
        assertEquals(a, b);
        assertNotEquals(a, other, "another seed draws other resamples");
        assertEquals(Arrays.stream(values).sum() / values.length, a.mean(), 1e-15);
        assertEquals(8, a.n());
    }

    @Test
    void constantInputGivesAPointInterval() {
        double[] values = new double[17];
        Arrays.fill(values, 0.1);  // 0.1 is not exact in binary: sums of it drift unless summed as offsets
        Bootstrap.Interval iv = Bootstrap.percentileInterval(values, 3, 1000, 0.95);
        assertEquals(0.1, iv.mean());
        assertEquals(0.1, iv.lo());
        assertEquals(0.1, iv.hi());
    }

    @Test
    void intervalCoversTheMeanAndNarrowsWithMorePrompts() {
        double[] few = new double[10], many = new double[1000];
        for (int i = 0; i < few.length; i++) few[i] = i % 5;
        for (int i = 0; i < many.length; i++) many[i] = i % 5;
        Bootstrap.Interval a = Bootstrap.percentileInterval(few, 5, 2000, 0.95);
        Bootstrap.Interval b = Bootstrap.percentileInterval(many, 5, 2000, 0.95);
        assertEquals(2.0, a.mean(), 1e-15);
        assertTrue(a.lo() < 2.0 && 2.0 < a.hi(), a.toString());
        assertTrue(b.lo() < 2.0 && 2.0 < b.hi(), b.toString());
        // sd 1.414, so the half-width is about 1.96 * 1.414 / sqrt(n): 0.88 for 10 prompts, 0.088 for 1000
        assertEquals(0.088, (b.hi() - b.lo()) / 2, 0.01);
        assertEquals(0.88, (a.hi() - a.lo()) / 2, 0.15);
    }

    @Test
    void twoValuesGiveTheirRangeAsTheInterval() {
        // Resampled means of {0, 1} are 0 (1/4), 0.5 (1/2), 1 (1/4): the 2.5% and 97.5% points are 0 and 1.
        Bootstrap.Interval iv = Bootstrap.percentileInterval(new double[]{0, 1}, 9, 4000, 0.95);
        assertEquals(new Bootstrap.Interval(0.5, 0, 1, 2), iv);
        // at 40% coverage the 30% and 70% points are both 0.5
        Bootstrap.Interval narrow = Bootstrap.percentileInterval(new double[]{0, 1}, 9, 4000, 0.40);
        assertEquals(0.5, narrow.lo());
        assertEquals(0.5, narrow.hi());
    }

    @Test
    void onePromptAndNoPrompt() {
        assertEquals(new Bootstrap.Interval(2.5, 2.5, 2.5, 1), Bootstrap.percentileInterval(new double[]{2.5}, 1, 100, 0.95));
        Bootstrap.Interval empty = Bootstrap.percentileInterval(new double[0], 1, 100, 0.95);
        assertEquals(0, empty.n());
        assertTrue(Double.isNaN(empty.mean()));
    }

    @Test
    void quantileIsLinearBetweenOrderStatistics() {
        double[] sorted = {1, 2, 3, 4};
        assertEquals(2.5, Bootstrap.quantile(sorted, 0.5));
        assertEquals(1.75, Bootstrap.quantile(sorted, 0.25));
        assertEquals(1, Bootstrap.quantile(sorted, 0));
        assertEquals(4, Bootstrap.quantile(sorted, 1));
    }

    @Test
    void resamplesDrawEveryClusterCountOnce() {
        Bootstrap.Resamples r = Bootstrap.resamples(7, 1, 50);
        assertEquals(50, r.samples());
        for (int[] draw : r.counts()) assertEquals(7, Arrays.stream(draw).sum());
        assertArrayEquals(r.counts()[3], Bootstrap.resamples(7, 1, 50).counts()[3]);
    }

    @Test
    void weightedMeanSkipsAbsentValues() {
        double[] values = {1, Double.NaN, 4};
        assertEquals((2 * 1 + 4) / 3.0, Bootstrap.weightedMean(values, new int[]{2, 5, 1}), 1e-15);
        assertTrue(Double.isNaN(Bootstrap.weightedMean(values, new int[]{0, 3, 0})));
    }

    @Test
    void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Bootstrap.percentileInterval(new double[]{1, Double.NaN}, 1, 10, 0.95));
        assertThrows(IllegalArgumentException.class, () -> Bootstrap.percentileInterval(new double[]{1}, 1, 0, 0.95));
        assertThrows(IllegalArgumentException.class, () -> Bootstrap.percentileInterval(new double[]{1}, 1, 10, 1.0));
    }
}
