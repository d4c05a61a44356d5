package cgap.gap.stats;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * Percentile bootstrap over prompts (the resampling unit of the study: token steps within a prompt are not
 * independent, prompts are). Every interval is seeded, so a summary is reproducible bit for bit; every call with
 * the same seed and the same number of clusters draws the same resamples, so intervals of different statistics
 * over the same prompts (e.g. the layers of one curve) come from the same draws.
 */
public final class Bootstrap {
    private Bootstrap() {}

    /** A point estimate with its percentile interval; n is the number of clusters (prompts) resampled. */
    public record Interval(double mean, double lo, double hi, int n) {
        static final Interval EMPTY = new Interval(Double.NaN, Double.NaN, Double.NaN, 0);
    }

    /**
     * The mean of per-prompt values with its percentile interval.
     *
     * @param perPromptValues one value per prompt (NaN values are rejected: drop them before)
     * @param seed            seed of the resampling
     * @param samples         number of bootstrap resamples (>= 1)
     * @param level           coverage, e.g. 0.95
     */
    public static Interval percentileInterval(double[] perPromptValues, long seed, int samples, double level) {
        for (int i = 0; i < perPromptValues.length; i++)
            if (Double.isNaN(perPromptValues[i]))
                throw new IllegalArgumentException("per-prompt value " + i + " is NaN");
        return clusterInterval(perPromptValues.length, seed, samples, level,
                counts -> weightedMean(perPromptValues, counts));
    }

    /**
     * The resamples of a cluster bootstrap: counts[s][c] is how many times resample s drew cluster c. Drawing them
     * once and reusing them for every statistic over the same clusters saves most of the work of a summary.
     */
    public record Resamples(int clusters, int[][] counts) {
        public int samples() { return counts.length; }
    }

    /** Draws {@code samples} resamples of {@code clusters} clusters with replacement, seeded. */
    public static Resamples resamples(int clusters, long seed, int samples) {
        if (samples < 1) throw new IllegalArgumentException("bootstrap samples must be >= 1, got " + samples);
        SplittableRandom random = new SplittableRandom(seed);
        int[][] counts = new int[samples][clusters];
        for (int[] draw : counts)
            for (int i = 0; i < clusters; i++) draw[random.nextInt(clusters)]++;
        return new Resamples(clusters, counts);
    }

    /**
     * A statistic of clustered data with its percentile interval. One resample draws {@code clusters} clusters with
     * replacement; the statistic sees how many times each cluster was drawn (counts[c], all ones for the point
     * estimate). A resample whose statistic is NaN (e.g. a group with no prompt drawn) is left out of the interval.
     */
    public static Interval clusterInterval(int clusters, long seed, int samples, double level,
                                           ToDoubleFunction<int[]> statisticOfCounts) {
        return clusterInterval(resamples(clusters, seed, samples), level, statisticOfCounts);
    }

    /** As {@link #clusterInterval(int, long, int, double, ToDoubleFunction)} on resamples drawn before. */
    public static Interval clusterInterval(Resamples resamples, double level, ToDoubleFunction<int[]> statisticOfCounts) {
        if (!(level > 0 && level < 1)) throw new IllegalArgumentException("interval level must be in (0, 1), got " + level);
        int clusters = resamples.clusters();
        if (clusters == 0) return Interval.EMPTY;
        int[] ones = new int[clusters];
        Arrays.fill(ones, 1);
        double estimate = statisticOfCounts.applyAsDouble(ones);
        double[] resampled = new double[resamples.samples()];
        int defined = 0;
        for (int[] counts : resamples.counts()) {
            double value = statisticOfCounts.applyAsDouble(counts);
            if (!Double.isNaN(value)) resampled[defined++] = value;
        }
        if (defined == 0) return new Interval(estimate, Double.NaN, Double.NaN, clusters);
        double[] sorted = Arrays.copyOf(resampled, defined);
        Arrays.sort(sorted);
        double tail = (1 - level) / 2;
        return new Interval(estimate, quantile(sorted, tail), quantile(sorted, 1 - tail), clusters);
    }

    /** The q-quantile of sorted values, linear between order statistics (numpy's default, "type 7"). */
    public static double quantile(double[] sorted, double q) {
        if (sorted.length == 0) return Double.NaN;
        double h = (sorted.length - 1) * q;
        int below = (int) Math.floor(h);
        if (below >= sorted.length - 1) return sorted[sorted.length - 1];
        return sorted[below] + (h - below) * (sorted[below + 1] - sorted[below]);
    }

    /**
     * Mean of values with each value counted counts[i] times; NaN values are absent (a prompt the group lacks).
     * NaN when nothing is counted. Summed as offsets from the first present value so that constant input gives
     * exactly that constant for every resample.
     */
    static double weightedMean(double[] values, int[] counts) {
        double reference = Double.NaN, offsetSum = 0;
        long n = 0;
        for (int i = 0; i < values.length; i++) {
            if (counts[i] == 0 || Double.isNaN(values[i])) continue;
            if (n == 0) reference = values[i];
            offsetSum += counts[i] * (values[i] - reference);
            n += counts[i];
        }
        return n == 0 ? Double.NaN : reference + offsetSum / n;
    }
}
