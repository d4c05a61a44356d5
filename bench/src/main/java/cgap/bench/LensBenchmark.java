package cgap.bench;

import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.KvCache;
import cgap.engine.runtime.Transformer;
import cgap.gap.lens.LensMetrics;
import cgap.gap.lens.LogitLens;
import cgap.gap.lens.Readouts;
import cgap.gap.lens.ResidualCapture;
import cgap.gap.study.LensSteps;
import cgap.gap.study.Prompt;
import cgap.gap.study.Regime;
import cgap.kernels.MatMul;
import cgap.kernels.Parallel;
import cgap.kernels.WeightMatrix;
import cgap.models.Model;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The lens benchmark of bench/RESULTS-lens.md, side by side with bench/hf_lens_bench.py:
 * <ol>
 *   <li>lens: forward of T tokens plus every readout l = 0..L over the whole vocabulary, reduced to the metrics;</li>
 *   <li>readout GEMMs alone: the same matrix products the lens runs (pass 1: the final readout; pass 2: all
 *       readouts), with their GFLOP/s against the machine's FMA peak, measured here by a register-only loop;</li>
 *   <li>per generated token: one decode step plus the L+1 readouts at that position and the study's metrics.</li>
 * </ol>
 * Usage: LensBenchmark MODEL_DIR [T=128] [repeats=3] [steps=16] (repeats 0: the per-token part only).
 * Threads: -Dcgap.threads (default: all cores).
 */
public final class LensBenchmark {
    /** A constant species: the Vector API compiles to SIMD only for species C2 can see as constants. */
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private LensBenchmark() {}

    public static void main(String[] args) {
        Path dir = Path.of(args.length > 0 ? args[0] : System.getProperty("user.home") + "/.cache/cgap/synthetic/llama-3.2-1b-hf");
        int T = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 16;
        try (Model m = Model.load(dir)) {
            Transformer t = m.transformer();
            int L = t.layers(), d = t.hidden(), V = t.vocab();
            System.out.printf(Locale.ROOT, "model %s: %d layers, hidden %d, vocab %d; T = %d; %d threads%n", dir, L, d, V, T, Parallel.threads());
            int[] tokens = new Random(1).ints(T, 0, V).toArray();
            LogitLens lens = new LogitLens(t);

            double[] peak = fmaPeakGflops();
            System.out.printf(Locale.ROOT, "FMA peak (register-only loop): %.1f GFLOP/s on %d threads, %.1f GFLOP per core-second%n",
                    peak[0], Parallel.threads(), peak[1]);

            if (repeats > 0) lensAndGemms(t, lens, tokens, repeats, peak);
            double[] perStep = stepSeconds(t, tokens, steps);
            System.out.printf(Locale.ROOT, "per generated token (decode step + %d readouts + study metrics): %.3f s wall, %.3f CPU s%n",
                    L + 1, perStep[0], perStep[1]);
        }
    }

    /** The whole lens at T positions, then its readout GEMMs alone. */
    static void lensAndGemms(Transformer t, LogitLens lens, int[] tokens, int repeats, double[] peak) {
        int L = t.layers(), d = t.hidden(), V = t.vocab(), T = tokens.length;
        lens.run(tokens);  // warm-up: JIT and page-in of the weights
        double best = Double.MAX_VALUE, bestCpu = Double.MAX_VALUE, bestForward = Double.MAX_VALUE;
        LensMetrics metrics = null;
        for (int r = 0; r < repeats; r++) {
            long t0 = System.nanoTime();
            t.forward(tokens, t.newCache(), HookRegistry.none(), Transformer.Logits.NONE);
            bestForward = Math.min(bestForward, (System.nanoTime() - t0) / 1e9);
            double c0 = cpuSeconds();
            t0 = System.nanoTime();
            metrics = lens.run(tokens);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            bestCpu = Math.min(bestCpu, cpuSeconds() - c0);
        }
        double readoutFlop = 2.0 * d * V * ((double) T * (L + 1) + T);  // pass 2 (all readouts) + pass 1 (final)
        System.out.printf(Locale.ROOT, "lens (forward + all readouts + metrics): %.2f s wall, %.2f CPU s  [forward alone %.2f s wall]%n",
                best, bestCpu, bestForward);
        double[] gemm = readoutGemmSeconds(t, T, repeats);
        System.out.printf(Locale.ROOT, "readout GEMMs alone (%.0f GFLOP): %.2f s wall = %.1f GFLOP/s = %.0f%% of the FMA peak;"
                        + " %.2f CPU s = %.1f GFLOP per core-second = %.0f%% of the per-core peak%n",
                readoutFlop / 1e9, gemm[0], readoutFlop / gemm[0] / 1e9, 100 * readoutFlop / gemm[0] / 1e9 / peak[0],
                gemm[1], readoutFlop / gemm[1] / 1e9, 100 * readoutFlop / gemm[1] / 1e9 / peak[1]);
        double meanKl = 0;
        for (int l = 0; l <= L; l++) for (int p = 0; p < T; p++) meanKl += metrics.kl()[l][p] / ((L + 1.0) * T);
        System.out.printf(Locale.ROOT, "mean KL over readouts and positions: %.4f nats%n", meanKl);
    }

    /** CPU seconds this process has used, all threads: robust to other processes sharing the cores. */
    static double cpuSeconds() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime() / 1e9;
    }

    /** The readout matrix products of one lens run (same block and chunk shapes), without the reductions. */
    static double[] readoutGemmSeconds(Transformer t, int T, int repeats) {
        int L = t.layers(), d = t.hidden(), V = t.vocab();
        int rowsPerPosition = L + 1, positionsPerBlock = Math.max(1, Math.round(64f / rowsPerPosition));
        Random rnd = new Random(2);
        float[] x = new float[Math.max(positionsPerBlock * rowsPerPosition, Math.min(T, 64)) * d];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        float[] out = new float[x.length / d * 4096];
        double best = Double.MAX_VALUE, bestCpu = Double.MAX_VALUE;
        for (int r = 0; r <= repeats; r++) {
            long t0 = System.nanoTime();
            double c0 = cpuSeconds();
            for (int pass = 1; pass <= 2; pass++) {
                for (int v0 = 0; v0 < V; v0 += 4096) {
                    WeightMatrix w = rows(t.unembedding(), v0, Math.min(V, v0 + 4096));
                    if (pass == 1) {
                        for (int t0p = 0; t0p < T; t0p += 64) MatMul.matmul(x, Math.min(64, T - t0p), w, out);
                    } else {
                        for (int p0 = 0; p0 < T; p0 += positionsPerBlock) {
                            MatMul.matmul(x, Math.min(positionsPerBlock, T - p0) * rowsPerPosition, w, out);
                        }
                    }
                }
            }
            if (r > 0) {
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                bestCpu = Math.min(bestCpu, cpuSeconds() - c0);
            }
        }
        return new double[] {best, bestCpu};
    }

    /** {wall, CPU} seconds per generated token: a decode step, then the L+1 readouts and the study's per-step metrics. */
    static double[] stepSeconds(Transformer t, int[] prompt, int steps) {
        Prompt p = new Prompt("bench", "", Map.of(), "bench");
        HookRegistry hooks = new HookRegistry();
        ResidualCapture capture = ResidualCapture.attach(hooks, t.layers(), t.hidden(), prompt.length - 1);
        KvCache cache = t.newCache();
        t.forward(prompt, cache, hooks, Transformer.Logits.NONE);
        long t0 = 0;
        double c0 = 0;
        int warm = 2;
        for (int s = 0; s < steps + warm; s++) {
            if (s == warm) {
                t0 = System.nanoTime();
                c0 = cpuSeconds();
            }
            Readouts x = Readouts.of(t, t.vocab(), capture.position(0), t.layers() + 1);
            int token = x.top1(t.layers());
            LensSteps.record(p, "pt", Regime.PT_RAW, "own", s, token, x);
            capture.clear();
            t.forward(new int[] {token}, cache, hooks, Transformer.Logits.NONE);
        }
        return new double[] {(System.nanoTime() - t0) / 1e9 / steps, (cpuSeconds() - c0) / steps};
    }

    static WeightMatrix rows(WeightMatrix u, int r0, int r1) {
        long rowBytes = (long) u.cols() * u.dtype().bytes;
        return new WeightMatrix(u.data().asSlice(r0 * rowBytes, (r1 - r0) * rowBytes), u.dtype(), r1 - r0, u.cols());
    }

    /** {GFLOP/s of independent FMA chains in registers on every thread, GFLOP per CPU-second on one}: the FMA peak. */
    static double[] fmaPeakGflops() {
        int threads = Parallel.threads();
        long iterations = 20_000_000L;
        float warm = 0;
        for (int i = 0; i < 2_000; i++) warm += fmaLoop(10_000);  // C2-compile the loop before timing it
        if (warm == 42) System.out.print("");
        double flop = 2.0 * F.length() * 12 * iterations;
        double best = 0, perCore = 0;
        for (int attempt = 0; attempt < 3; attempt++) {
            float[] sink = new float[threads];
            long t0 = System.nanoTime();
            Parallel.forChunks(threads, 1, (a, b) -> sink[a] = fmaLoop(iterations));
            best = Math.max(best, flop * threads / ((System.nanoTime() - t0) / 1e9) / 1e9);
            long c0 = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
            sink[0] = fmaLoop(iterations);
            double cpu = (java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - c0) / 1e9;
            perCore = Math.max(perCore, flop / cpu / 1e9);
        }
        return new double[] {best, perCore};
    }

    private static float fmaLoop(long iterations) {
        FloatVector m = FloatVector.broadcast(F, 0.999999f), c = FloatVector.broadcast(F, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(F, 1f), a1 = a0.add(c), a2 = a1.add(c), a3 = a2.add(c), a4 = a3.add(c), a5 = a4.add(c);
        FloatVector a6 = a5.add(c), a7 = a6.add(c), a8 = a7.add(c), a9 = a8.add(c), a10 = a9.add(c), a11 = a10.add(c);
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(m, c); a1 = a1.fma(m, c); a2 = a2.fma(m, c); a3 = a3.fma(m, c);
            a4 = a4.fma(m, c); a5 = a5.fma(m, c); a6 = a6.fma(m, c); a7 = a7.fma(m, c);
            a8 = a8.fma(m, c); a9 = a9.fma(m, c); a10 = a10.fma(m, c); a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
