package cgap.kernels;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.atomic.DoubleAdder;

import static cgap.kernels.Vec.F;
import static cgap.kernels.Vec.L;

/**
 * Quick measurements of the machine's two ceilings, for putting kernel speeds in context. Each runs on all
 * {@link Parallel#threads()} threads, takes the best of a few short runs, and finishes in under 2 s.
 *
 * <p>Rates are per CPU second: every thread divides its own work by its own CPU time, and the threads' rates
 * add up. On an idle machine that equals the wall-clock rate; on a shared one it is what the cores deliver
 * while this process has them, which is the right yardstick for kernel timings taken the same way.
 */
public final class MachineProbe {
    /**
     * 128 MiB: four times the largest L3, and small enough to allocate within the time budget on VMs where
     * first-touch page faults are slow (about 10 s per GiB was seen under Firecracker).
     */
    private static final long BANDWIDTH_BYTES = 1L << 27;
    private static final int BANDWIDTH_PASSES = 5;
    private static final int PEAK_RUNS = 7;
    private static final int PEAK_ITERATIONS = 2_000_000;
    /** Independent FMA chains per thread: enough to cover FMA latency x issue width, few enough to stay in registers. */
    private static final int PEAK_CHAINS = 12;
    private static final int WARMUP_CALLS = 20_000;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private MachineProbe() {}

    /** Read bandwidth in GB/s (1e9 bytes/s): a vector sum over a 128 MiB off-heap segment, split over all threads. */
    public static double bandwidthGBs() {
        return bandwidthGBs(BANDWIDTH_BYTES);
    }

    /** As {@link #bandwidthGBs()} over a segment of the given size (a multiple of 4 MiB). */
    public static double bandwidthGBs(long bytes) {
        int threads = Parallel.threads();
        long slice = bytes / threads / 64 * 64;
        if (bytes < (1L << 22) || bytes % (1L << 22) != 0) {
            throw new IllegalArgumentException("bandwidthGBs: size must be a positive multiple of 4 MiB, got " + bytes);
        }
        try (Arena arena = Arena.ofShared()) {
            MemorySegment data = arena.allocate(bytes, 64); // zeroed, so every page is touched before timing
            // Get sum() JIT-compiled on a small range first: interpreted vector code is far too slow to time.
            for (int i = 0; i < WARMUP_CALLS; i++) sum(data, 0, 4096);
            DoubleAdder sink = new DoubleAdder();
            double best = 0;
            for (int pass = 0; pass < BANDWIDTH_PASSES; pass++) {
                DoubleAdder rate = new DoubleAdder();
                Parallel.forChunks(threads, 1, (thread, unused) -> {
                    long start = THREADS.getCurrentThreadCpuTime();
                    sink.add(sum(data, thread * slice, (thread + 1) * slice));
                    rate.add(slice / (double) (THREADS.getCurrentThreadCpuTime() - start));
                });
                best = Math.max(best, rate.sum());
            }
            if (Double.isNaN(sink.sum())) throw new AssertionError("unreachable: keeps the sums alive");
            return best;
        }
    }

    /** Bytes per piece of {@link #readGBs}: whole 256 KiB runs, as the decode kernels hand out their rows. */
    private static final long READ_PIECE = 1L << 18;

    /**
     * Wall-clock rate in GB/s of plain streaming reads over the given native segments (e.g. a model's mapped
     * weights), {@code passes} passes one after the other, in 256 KiB pieces handed out to all threads: the
     * ceiling for any pass that reads the same bytes from the same memory, so the yardstick for decode. On a
     * shared machine time it in the same moments as the work it is set against (e.g. one pass after each
     * decode step), since the memory's speed drifts within seconds.
     */
    public static double readGBs(List<MemorySegment> segments, int passes) {
        if (passes < 1) throw new IllegalArgumentException("readGBs: passes must be >= 1, got " + passes);
        int n = segments.size();
        long[] firstPiece = new long[n + 1];
        long bytes = 0;
        for (int i = 0; i < n; i++) {
            long size = segments.get(i).byteSize();
            bytes += size;
            firstPiece[i + 1] = firstPiece[i] + (size + READ_PIECE - 1) / READ_PIECE;
        }
        if (firstPiece[n] == 0) throw new IllegalArgumentException("readGBs: nothing to read");
        if (firstPiece[n] > Integer.MAX_VALUE) throw new IllegalArgumentException("readGBs: too many bytes: " + bytes);
        MemorySegment warm = segments.stream().filter(s -> s.byteSize() >= 4096).findFirst().orElseThrow(
                () -> new IllegalArgumentException("readGBs: every segment is shorter than 4 KiB"));
        for (int i = 0; i < WARMUP_CALLS; i++) sum(warm, 0, 4096);
        float[] parts = new float[(int) firstPiece[n]];
        long start = System.nanoTime();
        for (int pass = 0; pass < passes; pass++) {
            Parallel.forChunks(parts.length, 1, (p0, p1) -> {
                for (int p = p0; p < p1; p++) {
                    int segment = segmentOf(firstPiece, p);
                    MemorySegment data = segments.get(segment);
                    long from = (p - firstPiece[segment]) * READ_PIECE;
                    parts[p] = sum(data, from, Math.min(data.byteSize(), from + READ_PIECE));
                }
            });
        }
        // The sums land in parts, a heap array the JIT cannot prove dead, so the reads cannot be dropped.
        return bytes * (double) passes / (System.nanoTime() - start);
    }

    /** The segment whose pieces include piece p: the last i with firstPiece[i] <= p. */
    private static int segmentOf(long[] firstPiece, int p) {
        int lo = 0, hi = firstPiece.length - 2;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (firstPiece[mid] <= p) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    /** Every address, as one segment: see {@link #sum}, which checks its range against the real segment first. */
    @SuppressWarnings("restricted")
    private static final MemorySegment ALL_MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /**
     * Sum of the floats in [from, to) of a native segment. It reads through one constant segment at absolute
     * addresses, so that its compiled code does not depend on which segment classes it met first: through the
     * segment itself the same loop was measured at 25 or at 34 GB/s depending on that history alone.
     */
    private static float sum(MemorySegment data, long from, long to) {
        if (!data.isNative() || from < 0 || to > data.byteSize() || !data.scope().isAlive()) {
            throw new IllegalArgumentException("sum: [" + from + ", " + to + ") is not inside a live native segment of " + data.byteSize() + " bytes");
        }
        long step = (long) L * Float.BYTES, base = data.address();
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (long at = base + from; at + 4 * step <= base + to; at += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, ALL_MEMORY, at, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, ALL_MEMORY, at + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, ALL_MEMORY, at + 2 * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, ALL_MEMORY, at + 3 * step, ByteOrder.LITTLE_ENDIAN));
        }
        return Vec.sumLanes(a0.add(a1).add(a2.add(a3)));
    }

    /** Peak f32 FMA throughput in GFLOP/s (an FMA counts 2 flops): register-only FMA chains on all threads. */
    public static double peakGflops() {
        DoubleAdder sink = new DoubleAdder();
        for (int i = 0; i < WARMUP_CALLS; i++) sink.add(fmaChains(16)); // JIT-compile first, as above
        double flopsPerThread = 2.0 * PEAK_CHAINS * L * (double) PEAK_ITERATIONS;
        double best = 0;
        for (int run = 0; run < PEAK_RUNS; run++) {
            DoubleAdder rate = new DoubleAdder();
            Parallel.forChunks(Parallel.threads(), 1, (thread, unused) -> {
                long start = THREADS.getCurrentThreadCpuTime();
                sink.add(fmaChains(PEAK_ITERATIONS));
                rate.add(flopsPerThread / (THREADS.getCurrentThreadCpuTime() - start));
            });
            best = Math.max(best, rate.sum());
        }
        if (Double.isNaN(sink.sum())) throw new AssertionError("unreachable: keeps the sums alive");
        return best;
    }

    private static float fmaChains(int iterations) {
        // acc = acc * a + b converges to b / (1 - a): no overflow, no subnormals.
        FloatVector a = FloatVector.broadcast(F, 0.999f), b = FloatVector.broadcast(F, 1e-3f);
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        FloatVector c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < iterations; i++) {
            c0 = c0.fma(a, b); c1 = c1.fma(a, b); c2 = c2.fma(a, b); c3 = c3.fma(a, b);
            c4 = c4.fma(a, b); c5 = c5.fma(a, b); c6 = c6.fma(a, b); c7 = c7.fma(a, b);
            c8 = c8.fma(a, b); c9 = c9.fma(a, b); c10 = c10.fma(a, b); c11 = c11.fma(a, b);
        }
        return Vec.sumLanes(c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11));
    }
}
