package cgap.gap.bench;

import cgap.engine.Tensor;
import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.KvCache;
import cgap.engine.runtime.Transformer;
import cgap.kernels.MachineProbe;
import cgap.kernels.Parallel;
import cgap.models.Model;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Prefill and decode speed of one model, as medians of timed runs after a warm-up, with the machine's
 * limits beside them so the figures read as efficiencies: the FMA peak for prefill, and for decode the rate
 * of a plain streaming read of the model's own weights, one pass after each decode step, so that both rates
 * are sampled in the same moments of a shared machine. {@link MachineProbe#bandwidthGBs()} (a
 * 128 MiB buffer) is reported too, as the optimistic figure.
 */
public final class EndToEndBench {
    private EndToEndBench() {}

    public record Result(String model, int prefillTokens, int decodeTokens, double prefillTokensPerS,
                         double decodeTokensPerS, double weightBytesPerToken, double bandwidthGbs, double probeBandwidthGbs,
                         double peakGflops, double prefillGflopPerToken, int threads) {

        public double decodeBandwidthFraction() { return weightBytesPerToken * decodeTokensPerS / 1e9 / bandwidthGbs; }

        public double prefillPeakFraction() { return prefillGflopPerToken * prefillTokensPerS / peakGflops; }

        public String toJson() {
            return String.format(Locale.ROOT, "{\"model\": \"%s\", \"threads\": %d, \"prefill_tokens\": %d, \"decode_tokens\": %d, "
                            + "\"prefill_tokens_per_s\": %.3f, \"decode_tokens_per_s\": %.3f, \"bandwidth_gbs\": %.2f, \"probe_bandwidth_gbs\": %.2f, "
                            + "\"peak_gflops\": %.1f, \"decode_weight_gb_per_s\": %.2f, \"decode_bandwidth_fraction\": %.3f, "
                            + "\"prefill_gflops\": %.1f, \"prefill_peak_fraction\": %.3f, \"weights_read_slowly\": %b}",
                    model.replace("\\", "\\\\").replace("\"", "\\\""), threads, prefillTokens, decodeTokens,
                    prefillTokensPerS, decodeTokensPerS, bandwidthGbs, probeBandwidthGbs, peakGflops,
                    weightBytesPerToken * decodeTokensPerS / 1e9, decodeBandwidthFraction(),
                    prefillGflopPerToken * prefillTokensPerS, prefillPeakFraction(), weightsReadSlowly());
        }

        public String toTable() {
            return String.format(Locale.ROOT, """
                    model            %s (%d threads)
                    prefill (T=%d)   %.2f tokens/s  = %.1f GFLOP/s, %.0f%% of the %.1f GFLOP/s FMA peak
                    decode (%d tok)  %.2f tokens/s  = %.2f GB/s of weights, %.0f%% of the %.2f GB/s a plain read of them reaches
                                     (bandwidth probe on a 128 MiB buffer: %.2f GB/s)""",
                    model, threads, prefillTokens, prefillTokensPerS, prefillGflopPerToken * prefillTokensPerS,
                    100 * prefillPeakFraction(), peakGflops, decodeTokens, decodeTokensPerS,
                    weightBytesPerToken * decodeTokensPerS / 1e9, 100 * decodeBandwidthFraction(), bandwidthGbs,
                    probeBandwidthGbs) + (weightsReadSlowly() ? "\n" + slowReadWarning() : "");
        }

        /** What to tell the user when {@link #weightsReadSlowly()}: the figures measured the page cache, and how to mend it. */
        public String slowReadWarning() {
            return String.format(Locale.ROOT, """
                    warning: the weights read at %.2f GB/s, under a quarter of the %.2f GB/s of the probe buffer, so decode
                             measured how fast the checkpoint's pages come in, not cgap. Read the files once first; on
                             VMs whose idle page-cache pages turn slow, drop the caches (as root: sync; echo 3 >
                             /proc/sys/vm/drop_caches) and then read them, or read the weights into memory
                             (CGAP_JAVA_OPTS=-Dcgap.weights=memory).""", bandwidthGbs, probeBandwidthGbs);
        }

        /** The plain read of the mapped weights far below the memory's bandwidth: pages from disk, or slow page cache. */
        public boolean weightsReadSlowly() {
            return bandwidthGbs < 0.25 * probeBandwidthGbs;
        }
    }

    public static Result run(Path dir, int prefill, int decode, int runs, boolean verbose) {
        if (prefill < 1 || decode < 1 || runs < 1) throw new IllegalArgumentException("--prefill, --decode and --runs must be positive");
        double probeBandwidth = MachineProbe.bandwidthGBs();
        double peak = MachineProbe.peakGflops();
        try (Model m = Model.load(dir)) {
            Transformer t = m.transformer();
            List<MemorySegment> weights = weightsOneTokenReads(m);
            double weightBytes = weights.stream().mapToLong(MemorySegment::byteSize).sum();
            double[] readGbs = new double[runs];
            int[] tokens = new SplittableRandom(7).ints(prefill, 0, t.vocab()).toArray();
            double[] prefillS = new double[runs];
            double[] decodeS = new double[runs];
            for (int run = -1; run < runs; run++) { // run -1 is the warm-up
                KvCache cache = t.newCache();
                long start = System.nanoTime();
                t.forward(tokens, cache, HookRegistry.none(), Transformer.Logits.LAST);
                long prefillNanos = System.nanoTime() - start;
                // Each decode step is followed by one plain read of as many weight bytes, so the two rates are taken
                // in the same moments: on a shared VM the memory's speed drifts by a third within seconds.
                int next = tokens[prefill - 1];
                double decodeSeconds = 0, readSeconds = 0;
                for (int i = 0; i < decode; i++) {
                    long stepStart = System.nanoTime();
                    float[] logits = t.forward(new int[] {next}, cache, HookRegistry.none(), Transformer.Logits.LAST);
                    next = cgap.engine.runtime.Generator.argmax(logits, 0, t.vocab());
                    decodeSeconds += (System.nanoTime() - stepStart) / 1e9;
                    readSeconds += weightBytes / MachineProbe.readGBs(weights, 1) / 1e9;
                }
                double read = weightBytes * decode / readSeconds / 1e9;
                if (run >= 0) {
                    prefillS[run] = prefillNanos / 1e9;
                    decodeS[run] = decodeSeconds;
                    readGbs[run] = read;
                }
                if (verbose) {
                    System.err.printf(Locale.ROOT, "%s: prefill %.3f s, decode %.3f s, plain read of the weights %.1f GB/s%n",
                            run < 0 ? "warm-up" : "run " + (run + 1), prefillNanos / 1e9, decodeSeconds, read);
                }
            }
            return new Result(dir.toString(), prefill, decode, prefill / median(prefillS), decode / median(decodeS),
                    WeightTraffic.bytesPerDecodedToken(m), median(readGbs), probeBandwidth, peak,
                    WeightTraffic.prefillFlopsPerToken(m, prefill) / 1e9, Parallel.threads());
        }
    }

    /**
     * Matrices of the checkpoint, in name order, up to as many bytes as one decoded token reads: the same
     * kind of memory (the mapped file) and the same volume as decode, for {@link MachineProbe#readGBs(List, int)}.
     */
    static List<MemorySegment> weightsOneTokenReads(Model m) {
        double bytes = WeightTraffic.bytesPerDecodedToken(m);
        List<MemorySegment> segments = new ArrayList<>();
        double total = 0;
        for (String name : new TreeSet<>(m.checkpoint().names())) {
            Tensor tensor = m.checkpoint().tensor(name);
            if (tensor.rank() != 2) continue;
            segments.add(tensor.data());
            total += tensor.data().byteSize();
            if (total >= bytes) break;
        }
        return segments;
    }

    /** The median of xs (the mean of the middle two for an even count); xs is left as it was. */
    public static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
