package cgap.bench;

import cgap.kernels.DType;
import cgap.kernels.MachineProbe;
import cgap.kernels.MatMul;
import cgap.kernels.Parallel;
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
        warmUpKernels();
    }

    /**
     * Gets every MatMul code path JIT-compiled on a small matrix first: interpreted Vector API code is
     * thousands of times slower, and a few calls at the big shapes would not reach the compiler in time.
     */
    private static void warmUpKernels() {
        int rows = 7, cols = 515, maxTokens = 9; // 7 rows and 515 columns exercise the row and column tails
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) values[i] = (i % 17) * 0.01f;
        WeightMatrix small = WeightMatrix.ofFloats(values, rows, cols);
        float[] smallX = new float[maxTokens * cols], smallOut = new float[maxTokens * rows];
        for (int i = 0; i < 20_000; i++) MatMul.matmul(smallX, 1 + i % maxTokens, small, smallOut);
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

    /** Runs the JMH table, then prints GB/s and GFLOP/s per shape beside the machine's bandwidth and FMA peak. */
    public static void main(String[] args) throws RunnerException {
        Collection<RunResult> results = new Runner(new OptionsBuilder().include(MatMulBenchmark.class.getSimpleName()).build()).run();
        double bandwidth = MachineProbe.bandwidthGBs(1L << 30);
        double peak = MachineProbe.peakGflops();
        System.out.printf("%nMachine: %d threads, read bandwidth %.1f GB/s (1 GiB streaming sum), FMA peak %.1f GFLOP/s%n",
                Parallel.threads(), bandwidth, peak);
        System.out.printf("%-12s %5s %12s %9s %11s %9s %9s%n", "shape", "T", "ms/call", "GB/s", "GFLOP/s", "%bw", "%peak");
        for (RunResult result : results) {
            String shape = result.getParams().getParam("shape");
            int tokens = Integer.parseInt(result.getParams().getParam("tokens"));
            double seconds = result.getPrimaryResult().getScore() / 1e3;
            double weightBytes = (double) rows(shape) * cols(shape) * DType.BF16.bytes;
            double flops = 2.0 * tokens * rows(shape) * cols(shape);
            double gbs = weightBytes / seconds / 1e9, gflops = flops / seconds / 1e9;
            System.out.printf("%-12s %5d %12.3f %9.1f %11.1f %8.0f%% %8.0f%%%n", shape, tokens, seconds * 1e3, gbs, gflops,
                    100 * gbs / bandwidth, 100 * gflops / peak);
        }
    }
}
