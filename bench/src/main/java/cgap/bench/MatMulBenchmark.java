package cgap.bench;

import cgap.kernels.Attention;
import cgap.kernels.DType;
import cgap.kernels.MachineProbe;
import cgap.kernels.MatMul;
import cgap.kernels.Parallel;
import cgap.kernels.JitWarmup;
import cgap.kernels.WeightMatrix;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Collection;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * {@link MatMul#matmul} at Llama-3.2-1B shapes (rows x cols = out x in: q/o-proj 2048x2048, gate/up-proj
 * 8192x2048, down-proj 2048x8192, unembedding 128256x2048) with BF16 weights in an off-heap segment,
 * for decode (T = 1) and prefill (T = 128).
 *
 * <p>Derived figures, from the average time per call t (seconds):
 * <pre>
 *   GB/s     = rows * cols * 2 bytes / t / 1e9        (weight bytes streamed; x and out are small beside them)
 *   GFLOP/s  = 2 * T * rows * cols / t / 1e9          (one multiply + one add per weight per token)
 * </pre>
 * Decode is judged by GB/s against {@link MachineProbe#bandwidthGBs()}, prefill by GFLOP/s against
 * {@link MachineProbe#peakGflops()}.
 *
 * <p>Run the JMH table alone: {@code java -jar bench/target/benchmarks.jar MatMul}. Run it with the derived
 * figures and the machine probe: {@code java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar
 * cgap.bench.MatMulBenchmark}. See bench/RESULTS.md.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
public class MatMulBenchmark {
    @Param({"2048x2048", "8192x2048", "2048x8192", "128256x2048"})
    public String shape;

    @Param({"1", "128"})
    public int tokens;

    private Arena arena;
    private WeightMatrix weights;
    private float[] x;
    private float[] out;

    @Setup(Level.Trial)
    public void setUp() {
        int rows = rows(shape), cols = cols(shape);
        SplittableRandom random = new SplittableRandom(42);
        arena = Arena.ofShared();
        MemorySegment data = arena.allocate((long) rows * cols * DType.BF16.bytes, 64);
        // Random BF16 in about [-0.06, 0.06], like trained weights; one row is built on the heap and copied.
        short[] row = new short[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) row[c] = (short) (Float.floatToRawIntBits((float) (random.nextDouble() - 0.5) * 0.12f) >>> 16);
            MemorySegment.copy(row, 0, data, ValueLayout.JAVA_SHORT_UNALIGNED, (long) r * cols * DType.BF16.bytes, cols);
        }
        weights = new WeightMatrix(data, DType.BF16, rows, cols);
        x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        out = new float[tokens * rows];
        JitWarmup.run(); // interpreted Vector API code would dominate the first iterations
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matmul() {
        MatMul.matmul(x, tokens, weights, out);
        return out;
    }

    static int rows(String shape) { return Integer.parseInt(shape.substring(0, shape.indexOf('x'))); }

    static int cols(String shape) { return Integer.parseInt(shape.substring(shape.indexOf('x') + 1)); }

    /**
     * Runs the JMH table, measures the machine (bandwidth over 1 GiB, FMA peak), then times each case again
     * in this JVM against process CPU time, and prints GB/s and GFLOP/s per shape both ways.
     *
     * <p>The CPU-time figures divide the work by (CPU seconds of the calling thread and the pool workers /
     * threads): the speed the kernel would have with the cores to itself, measured like {@link MachineProbe}'s
     * ceilings. On a shared machine the wall-clock figures mostly measure the neighbours; the CPU-time ones stay
     * close to what the kernel can do (a worker waiting idle for the other costs no CPU, so they flatter load
     * imbalance slightly).
     */
    public static void main(String[] args) throws RunnerException {
        double loadBefore = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        Collection<RunResult> results = new Runner(new OptionsBuilder().include(MatMulBenchmark.class.getSimpleName()).build()).run();
        double bandwidth = MachineProbe.bandwidthGBs(1L << 30);
        double peak = MachineProbe.peakGflops();
        System.out.printf("%nMachine (per CPU second, see MachineProbe): %d threads, read bandwidth %.1f GB/s (1 GiB streaming sum), FMA peak %.1f GFLOP/s; load average %.1f before, %.1f now%n",
                Parallel.threads(), bandwidth, peak, loadBefore, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        System.out.printf("%-12s %5s | %10s %8s %9s %6s %6s | %10s %8s %9s %6s %6s%n", "shape", "T",
                "JMH ms", "GB/s", "GFLOP/s", "%bw", "%peak", "cpu ms", "GB/s", "GFLOP/s", "%bw", "%peak");
        for (RunResult result : results) {
            String shape = result.getParams().getParam("shape");
            int tokens = Integer.parseInt(result.getParams().getParam("tokens"));
            double wallSeconds = result.getPrimaryResult().getScore() / 1e3;
            double cpuSeconds = cpuSecondsPerCall(shape, tokens) / Parallel.threads();
            double weightBytes = (double) rows(shape) * cols(shape) * DType.BF16.bytes;
            double flops = 2.0 * tokens * rows(shape) * cols(shape);
            System.out.printf("%-12s %5d | %10.3f %8.1f %9.1f %5.0f%% %5.0f%% | %10.3f %8.1f %9.1f %5.0f%% %5.0f%%%n", shape, tokens,
                    wallSeconds * 1e3, weightBytes / wallSeconds / 1e9, flops / wallSeconds / 1e9,
                    100 * weightBytes / wallSeconds / 1e9 / bandwidth, 100 * flops / wallSeconds / 1e9 / peak,
                    cpuSeconds * 1e3, weightBytes / cpuSeconds / 1e9, flops / cpuSeconds / 1e9,
                    100 * weightBytes / cpuSeconds / 1e9 / bandwidth, 100 * flops / cpuSeconds / 1e9 / peak);
        }
        printAttention();
    }

    /**
     * Attention beside the matmuls it sits between: Llama-3.2-1B's 32 query heads, 8 kv heads, head dim 64,
     * T = 128 new tokens after pos0 cached ones. FLOPs = 4 * headDim * heads * (visible keys summed over tokens).
     */
    private static void printAttention() {
        int T = 128, heads = 32, kvHeads = 8, dim = 64;
        System.out.printf("%nAttention, %d heads / %d kv heads, head dim %d, T = %d%n", heads, kvHeads, dim, T);
        System.out.printf("%6s | %10s %9s | %10s %9s%n", "pos0", "wall ms", "GFLOP/s", "cpu ms", "GFLOP/s");
        for (int pos0 : new int[] {0, 896}) {
            SplittableRandom random = new SplittableRandom(7);
            int keys = pos0 + T;
            float[] q = new float[T * heads * dim], k = new float[keys * kvHeads * dim], v = new float[keys * kvHeads * dim];
            for (float[] array : new float[][] {q, k, v}) for (int i = 0; i < array.length; i++) array[i] = (float) random.nextGaussian();
            float[] out = new float[T * heads * dim];
            double flops = 0;
            for (int t = 0; t < T; t++) flops += 4.0 * dim * heads * (pos0 + t + 1);
            double bestWall = Double.MAX_VALUE, bestCpu = Double.MAX_VALUE;
            long[] kernelThreads = kernelThreadIds();
            long end = System.nanoTime() + 4_000_000_000L; // the first second or so is JIT warm-up
            while (System.nanoTime() < end) {
                long cpu = cpuNanos(kernelThreads), wall = System.nanoTime();
                Attention.attend(q, T, pos0, heads, kvHeads, dim, dim, k, v, 0.125f, 0f, 0, out);
                bestWall = Math.min(bestWall, (System.nanoTime() - wall) / 1e9);
                bestCpu = Math.min(bestCpu, (cpuNanos(kernelThreads) - cpu) / 1e9 / Parallel.threads());
            }
            System.out.printf("%6d | %10.3f %9.1f | %10.3f %9.1f%n", pos0, bestWall * 1e3, flops / bestWall / 1e9, bestCpu * 1e3, flops / bestCpu / 1e9);
        }
    }

    /**
     * CPU seconds per call, summed over the calling thread and the kernel pool's workers: the least over
     * about two seconds of calls after a warm-up.
     */
    private static double cpuSecondsPerCall(String shape, int tokens) {
        MatMulBenchmark state = new MatMulBenchmark();
        state.shape = shape;
        state.tokens = tokens;
        state.setUp();
        try {
            for (int i = 0; i < 3; i++) state.matmul();
            long[] kernelThreads = kernelThreadIds();
            double best = Double.MAX_VALUE;
            long end = System.nanoTime() + 2_000_000_000L;
            for (int calls = 0; calls < 3 || System.nanoTime() < end; calls++) {
                long before = cpuNanos(kernelThreads);
                state.matmul();
                best = Math.min(best, (cpuNanos(kernelThreads) - before) / 1e9);
            }
            return best;
        } finally {
            state.tearDown();
        }
    }

    /** This thread and the Parallel pool's workers (named cgap-worker-N). */
    private static long[] kernelThreadIds() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t == Thread.currentThread() || t.getName().startsWith("cgap-worker-"))
                .mapToLong(Thread::threadId).toArray();
    }

    private static long cpuNanos(long[] threadIds) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long total = 0;
        for (long id : threadIds) total += Math.max(0, threads.getThreadCpuTime(id));
        return total;
    }
}
