package cgap.kernels;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static cgap.kernels.Vec.F;
import static cgap.kernels.Vec.L;

/**
 * out[t*rows + r] = sum_c x[t*cols + c] * W[r, c] for t < T, with x: [T, cols], out: [T, rows],
 * W a BF16/F16/F32 {@link WeightMatrix} read in place, and f32 accumulation.
 *
 * <p>How (a small GEMM in the BLIS manner): rows are split over {@link Parallel} threads in chunks. For a
 * chunk, x is walked in blocks of {@value #TOKEN_BLOCK} tokens x {@value #K_BLOCK} columns, small enough to stay
 * in L2 while every row of the chunk passes over it. A chunk's rows are taken {@value #ROW_TILE} at a time and
 * their K block is widened once to f32 in a per-thread panel (vectorized BF16/F16 decode) that stays in L1;
 * register tiles of {@value #TOKEN_TILE} tokens x {@value #ROW_TILE} rows then run over it, so every loaded
 * weight vector feeds {@value #TOKEN_TILE} FMAs and every weight is read from memory once per call. The
 * vector accumulators persist across K blocks in a per-thread scratch. Decode (T = 1) is the same path with
 * one-token tiles; it streams the weights once, which makes it bandwidth bound.
 *
 * <p>Summation order (fixed, so results are deterministic and do not depend on T, the blocking or the
 * thread count): each output is one dot product in which vector lane j accumulates, with FMA and in
 * increasing c, the products of the columns c = j (mod L) below the last whole vector; the L lanes are
 * then summed by {@link Vec#sumLanes}, and the remaining columns are added in order with FMA.
 * L is the preferred float vector length of the machine, so the last bits can differ between machines.
 */
public final class MatMul {
    static final int TOKEN_TILE = 4;
    static final int ROW_TILE = 3;
    /** Columns per K block: a 128-token x block is then 512 KiB, and a 3-row f32 panel 12 KiB. */
    static final int K_BLOCK = 1024;
    static final int TOKEN_BLOCK = 128;
    /** Accumulator scratch budget per thread, in floats (256 KiB): bounds a chunk's rows for a token block. */
    private static final int ACCUMULATOR_BUDGET = 1 << 16;

    /** Per-thread scratch: the f32 weight panel and the chunk's vector accumulators, grown on demand. */
    private static final class Scratch {
        float[] panel = new float[ROW_TILE * K_BLOCK];
        float[] accumulators = new float[0];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private MatMul() {}

    public static void matmul(float[] x, int T, WeightMatrix w, float[] out) {
        checkShapes(x, T, w, out);
        int rows = w.rows();
        if (T == 0 || rows == 0) return;
        int tokensPerBlock = Math.min(T, TOKEN_BLOCK);
        // About eight chunks per thread balances the load; the accumulator budget caps a chunk for long blocks.
        int balancedRows = rows / (Parallel.threads() * 8);
        int budgetRows = ACCUMULATOR_BUDGET / (tokensPerBlock * L);
        int chunkRows = Math.max(ROW_TILE, Math.min(balancedRows, budgetRows) / ROW_TILE * ROW_TILE);
        Parallel.forChunks(rows, chunkRows, (r0, r1) -> matmulRows(x, T, w, out, r0, r1));
    }
    /** Plain scalar reference: one dot product per output, summed left to right, single-threaded. */
    public static void matmulReference(float[] x, int T, WeightMatrix w, float[] out) {
        checkShapes(x, T, w, out);
        int rows = w.rows(), cols = w.cols();
        for (int t = 0; t < T; t++) {
            for (int r = 0; r < rows; r++) {
                float sum = 0f;
                for (int c = 0; c < cols; c++) sum += x[t * cols + c] * w.get(r, c);
                out[t * rows + r] = sum;
            }
        }
    }

    private static void checkShapes(float[] x, int T, WeightMatrix w, float[] out) {
        if (T < 0) throw new IllegalArgumentException("matmul: T must be >= 0, got " + T);
        if (x == out) throw new IllegalArgumentException("matmul: out must not be the same array as x");
        if ((long) T * w.cols() > x.length) {
            throw new IllegalArgumentException("matmul: x has " + x.length + " floats, need T*cols = " + T + "*" + w.cols());
        }
        if ((long) T * w.rows() > out.length) {
            throw new IllegalArgumentException("matmul: out has " + out.length + " floats, need T*rows = " + T + "*" + w.rows());
        }
    }

    /** All T tokens for weight rows [r0, r1). */
    private static void matmulRows(float[] x, int T, WeightMatrix w, float[] out, int r0, int r1) {
        int cols = w.cols(), rows = w.rows();
        int upper = F.loopBound(cols);
        Scratch scratch = SCRATCH.get();
        int chunkRows = r1 - r0;
        int accumulatorFloats = chunkRows * Math.min(T, TOKEN_BLOCK) * L;
        if (scratch.accumulators.length < accumulatorFloats) scratch.accumulators = new float[accumulatorFloats];
        float[] panel = scratch.panel, acc = scratch.accumulators;
        for (int t0 = 0; t0 < T; t0 += TOKEN_BLOCK) {
            int tokens = Math.min(TOKEN_BLOCK, T - t0);
            for (int k0 = 0; k0 < upper; k0 += K_BLOCK) {
                int n = Math.min(K_BLOCK, upper - k0);
                boolean first = k0 == 0;
                int r = r0;
                for (; r + ROW_TILE <= r1; r += ROW_TILE) {
                    for (int i = 0; i < ROW_TILE; i++) decodeRow(w, r + i, k0, k0 + n, panel, i * K_BLOCK);
                    // Accumulator of (token t0+i, row r+j) at ((r+j-r0) * tokens + i) * L.
                    int a = (r - r0) * tokens * L;
                    int t = 0;
                    for (; t + TOKEN_TILE <= tokens; t += TOKEN_TILE) {
                        tile4x3(x, (t0 + t) * cols + k0, cols, panel, n, acc, a + t * L, tokens * L, first);
                    }
                    for (; t < tokens; t++) tile1x3(x, (t0 + t) * cols + k0, panel, n, acc, a + t * L, tokens * L, first);
                }
                for (; r < r1; r++) {
                    decodeRow(w, r, k0, k0 + n, panel, 0);
                    int a = (r - r0) * tokens * L;
                    int t = 0;
                    for (; t + TOKEN_TILE <= tokens; t += TOKEN_TILE) tile4x1(x, (t0 + t) * cols + k0, cols, panel, n, acc, a + t * L, first);
                    for (; t < tokens; t++) tile1x1(x, (t0 + t) * cols + k0, panel, n, acc, a + t * L, first);
                }
            }
            // Lanes summed in the fixed tree, then the columns past the last whole vector in order.
            for (int r = r0; r < r1; r++) {
                for (int t = 0; t < tokens; t++) {
                    float sum = upper > 0 ? Vec.sumLanes(FloatVector.fromArray(F, acc, ((r - r0) * tokens + t) * L)) : 0f;
                    int xRow = (t0 + t) * cols;
                    for (int c = upper; c < cols; c++) sum = Math.fma(x[xRow + c], w.get(r, c), sum);
                    out[(t0 + t) * rows + r] = sum;
                }
            }
        }
    }

    /** Decodes W[r, c0..c1) to f32 into dst starting at dstOffset. */
    static void decodeRow(WeightMatrix w, int r, int c0, int c1, float[] dst, int dstOffset) {
        MemorySegment data = w.data();
        long base = w.offset(r, 0);
        int bytes = w.dtype().bytes;
        int c = c0;
        int upper = c0 + F.loopBound(c1 - c0);
        switch (w.dtype()) {
            case BF16 -> {
                for (; c < upper; c += L) Vec.loadBF16(data, base + (long) c * bytes).intoArray(dst, dstOffset + c - c0);
            }
            case F16 -> {
                for (; c < upper; c += L) Vec.loadF16(data, base + (long) c * bytes).intoArray(dst, dstOffset + c - c0);
            }
            case F32 -> {
                for (; c < upper; c += L) Vec.loadF32(data, base + (long) c * bytes).intoArray(dst, dstOffset + c - c0);
            }
        }
        for (; c < c1; c++) dst[dstOffset + c - c0] = WeightMatrix.decode(data, w.dtype(), base + (long) c * bytes);
    }

    private static FloatVector load(float[] acc, int index, boolean first) {
        return first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, index);
    }

    /**
     * Tokens at x offsets x0, x0+stride, x0+2*stride, x0+3*stride times the three panel rows, over n columns
     * (a multiple of L). Accumulator of (token i, row j) at acc[a + j*rowStep + i*L].
     */
    private static void tile4x3(float[] x, int x0, int stride, float[] panel, int n, float[] acc, int a, int rowStep, boolean first) {
        int x1 = x0 + stride, x2 = x1 + stride, x3 = x2 + stride;
        int w0 = 0, w1 = K_BLOCK, w2 = 2 * K_BLOCK;
        int b0 = a, b1 = a + rowStep, b2 = a + 2 * rowStep;
        FloatVector a00 = load(acc, b0, first), a01 = load(acc, b1, first), a02 = load(acc, b2, first);
        FloatVector a10 = load(acc, b0 + L, first), a11 = load(acc, b1 + L, first), a12 = load(acc, b2 + L, first);
        FloatVector a20 = load(acc, b0 + 2 * L, first), a21 = load(acc, b1 + 2 * L, first), a22 = load(acc, b2 + 2 * L, first);
        FloatVector a30 = load(acc, b0 + 3 * L, first), a31 = load(acc, b1 + 3 * L, first), a32 = load(acc, b2 + 3 * L, first);
        for (int c = 0; c < n; c += L) {
            FloatVector v0 = FloatVector.fromArray(F, panel, w0 + c);
            FloatVector v1 = FloatVector.fromArray(F, panel, w1 + c);
            FloatVector v2 = FloatVector.fromArray(F, panel, w2 + c);
            FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
            a00 = xv.fma(v0, a00); a01 = xv.fma(v1, a01); a02 = xv.fma(v2, a02);
            xv = FloatVector.fromArray(F, x, x1 + c);
            a10 = xv.fma(v0, a10); a11 = xv.fma(v1, a11); a12 = xv.fma(v2, a12);
            xv = FloatVector.fromArray(F, x, x2 + c);
            a20 = xv.fma(v0, a20); a21 = xv.fma(v1, a21); a22 = xv.fma(v2, a22);
            xv = FloatVector.fromArray(F, x, x3 + c);
            a30 = xv.fma(v0, a30); a31 = xv.fma(v1, a31); a32 = xv.fma(v2, a32);
        }
        a00.intoArray(acc, b0); a01.intoArray(acc, b1); a02.intoArray(acc, b2);
        a10.intoArray(acc, b0 + L); a11.intoArray(acc, b1 + L); a12.intoArray(acc, b2 + L);
        a20.intoArray(acc, b0 + 2 * L); a21.intoArray(acc, b1 + 2 * L); a22.intoArray(acc, b2 + 2 * L);
        a30.intoArray(acc, b0 + 3 * L); a31.intoArray(acc, b1 + 3 * L); a32.intoArray(acc, b2 + 3 * L);
    }

    /** One token times the three panel rows: the decode kernel. */
    private static void tile1x3(float[] x, int x0, float[] panel, int n, float[] acc, int a, int rowStep, boolean first) {
        int w0 = 0, w1 = K_BLOCK, w2 = 2 * K_BLOCK;
        int b0 = a, b1 = a + rowStep, b2 = a + 2 * rowStep;
        FloatVector a0 = load(acc, b0, first), a1 = load(acc, b1, first), a2 = load(acc, b2, first);
        for (int c = 0; c < n; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
            a0 = xv.fma(FloatVector.fromArray(F, panel, w0 + c), a0);
            a1 = xv.fma(FloatVector.fromArray(F, panel, w1 + c), a1);
            a2 = xv.fma(FloatVector.fromArray(F, panel, w2 + c), a2);
        }
        a0.intoArray(acc, b0); a1.intoArray(acc, b1); a2.intoArray(acc, b2);
    }

    /** Four tokens times panel row 0: a chunk's leftover rows. */
    private static void tile4x1(float[] x, int x0, int stride, float[] panel, int n, float[] acc, int a, boolean first) {
        int x1 = x0 + stride, x2 = x1 + stride, x3 = x2 + stride;
        FloatVector a0 = load(acc, a, first), a1 = load(acc, a + L, first), a2 = load(acc, a + 2 * L, first), a3 = load(acc, a + 3 * L, first);
        for (int c = 0; c < n; c += L) {
            FloatVector v = FloatVector.fromArray(F, panel, c);
            a0 = FloatVector.fromArray(F, x, x0 + c).fma(v, a0);
            a1 = FloatVector.fromArray(F, x, x1 + c).fma(v, a1);
            a2 = FloatVector.fromArray(F, x, x2 + c).fma(v, a2);
            a3 = FloatVector.fromArray(F, x, x3 + c).fma(v, a3);
        }
        a0.intoArray(acc, a); a1.intoArray(acc, a + L); a2.intoArray(acc, a + 2 * L); a3.intoArray(acc, a + 3 * L);
    }

    private static void tile1x1(float[] x, int x0, float[] panel, int n, float[] acc, int a, boolean first) {
        FloatVector a0 = load(acc, a, first);
        for (int c = 0; c < n; c += L) a0 = FloatVector.fromArray(F, x, x0 + c).fma(FloatVector.fromArray(F, panel, c), a0);
        a0.intoArray(acc, a);
    }
}
