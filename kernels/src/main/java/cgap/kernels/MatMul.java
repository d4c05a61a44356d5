package cgap.kernels;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static cgap.kernels.Vec.F;
import static cgap.kernels.Vec.L;

/**
 * out[t*rows + r] = sum_c x[t*cols + c] * W[r, c] for t < T, with x: [T, cols], out: [T, rows],
 * W a BF16/F16/F32 {@link WeightMatrix} read in place, and f32 accumulation.
 *
 * <p>How: the rows are split over {@link Parallel} threads. A thread takes {@value #ROW_TILE} rows at a
 * time, widens them once to f32 in a per-thread scratch panel (vectorized BF16/F16 decode), then runs
 * register tiles of {@value #TOKEN_TILE} tokens x {@value #ROW_TILE} rows over that panel, so every
 * weight row is read from memory once per call and reused for all T tokens from cache. Decode (T = 1)
 * is the same path with a one-token tile; it streams the weights once, which makes it bandwidth bound.
 *
 * <p>Summation order (fixed, so results are deterministic and do not depend on T, the tiling or the
 * thread count): each output is one dot product in which vector lane j accumulates, with FMA and in
 * increasing c, the products of the columns c = j (mod L) below the last whole vector; the L lanes are
 * then summed by {@link Vec#sumLanes}, and the remaining columns are added in order with FMA.
 * L is the preferred float vector length of the machine, so the last bits can differ between machines.
 */
public final class MatMul {
    static final int TOKEN_TILE = 4;
    static final int ROW_TILE = 3;

    /** Per-thread f32 panel of ROW_TILE decoded weight rows, grown on demand. */
    private static final ThreadLocal<float[]> PANEL = ThreadLocal.withInitial(() -> new float[0]);

    private MatMul() {}

    public static void matmul(float[] x, int T, WeightMatrix w, float[] out) {
        checkShapes(x, T, w, out);
        int rows = w.rows();
        if (T == 0 || rows == 0) return;
        // About eight chunks per thread balances load; a chunk is a whole number of row tiles.
        int tilesPerChunk = Math.max(1, rows / (ROW_TILE * Parallel.threads() * 8));
        Parallel.forChunks(rows, tilesPerChunk * ROW_TILE, (r0, r1) -> matmulRows(x, T, w, out, r0, r1));
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
        float[] panel = PANEL.get();
        if (panel.length < ROW_TILE * cols) {
            panel = new float[ROW_TILE * cols];
            PANEL.set(panel);
        }
        int r = r0;
        for (; r + ROW_TILE <= r1; r += ROW_TILE) {
            for (int i = 0; i < ROW_TILE; i++) decodeRow(w, r + i, 0, cols, panel, i * cols);
            int t = 0;
            for (; t + TOKEN_TILE <= T; t += TOKEN_TILE) tile4x3(x, t, cols, panel, out, rows, r);
            for (; t < T; t++) tile1x3(x, t, cols, panel, out, rows, r);
        }
        for (; r < r1; r++) {
            decodeRow(w, r, 0, cols, panel, 0);
            int t = 0;
            for (; t + TOKEN_TILE <= T; t += TOKEN_TILE) tile4x1(x, t, cols, panel, out, rows, r);
            for (; t < T; t++) out[t * rows + r] = dot(x, t * cols, panel, 0, cols);
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

    /** Lanes summed, then the tail columns [from, n) added in order: the fixed order described above. */
    private static float finish(FloatVector acc, float[] x, int xOffset, float[] w, int wOffset, int from, int n) {
        float sum = Vec.sumLanes(acc);
        for (int c = from; c < n; c++) sum = Math.fma(x[xOffset + c], w[wOffset + c], sum);
        return sum;
    }

    /** One dot product of length n, in the fixed order. */
    private static float dot(float[] x, int xOffset, float[] w, int wOffset, int n) {
        int upper = F.loopBound(n);
        FloatVector acc = FloatVector.zero(F);
        for (int c = 0; c < upper; c += L) {
            acc = FloatVector.fromArray(F, x, xOffset + c).fma(FloatVector.fromArray(F, w, wOffset + c), acc);
        }
        return finish(acc, x, xOffset, w, wOffset, upper, n);
    }

    /** Tokens t..t+3 x panel rows 0..2 (weight rows r..r+2). */
    private static void tile4x3(float[] x, int t, int cols, float[] panel, float[] out, int rows, int r) {
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        int w0 = 0, w1 = cols, w2 = 2 * cols;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00;
        int upper = F.loopBound(cols);
        for (int c = 0; c < upper; c += L) {
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
        int o0 = t * rows + r, o1 = o0 + rows, o2 = o1 + rows, o3 = o2 + rows;
        out[o0] = finish(a00, x, x0, panel, w0, upper, cols);
        out[o0 + 1] = finish(a01, x, x0, panel, w1, upper, cols);
        out[o0 + 2] = finish(a02, x, x0, panel, w2, upper, cols);
        out[o1] = finish(a10, x, x1, panel, w0, upper, cols);
        out[o1 + 1] = finish(a11, x, x1, panel, w1, upper, cols);
        out[o1 + 2] = finish(a12, x, x1, panel, w2, upper, cols);
        out[o2] = finish(a20, x, x2, panel, w0, upper, cols);
        out[o2 + 1] = finish(a21, x, x2, panel, w1, upper, cols);
        out[o2 + 2] = finish(a22, x, x2, panel, w2, upper, cols);
        out[o3] = finish(a30, x, x3, panel, w0, upper, cols);
        out[o3 + 1] = finish(a31, x, x3, panel, w1, upper, cols);
        out[o3 + 2] = finish(a32, x, x3, panel, w2, upper, cols);
    }

    /** Token t x panel rows 0..2: the decode kernel. */
    private static void tile1x3(float[] x, int t, int cols, float[] panel, float[] out, int rows, int r) {
        int x0 = t * cols;
        int w0 = 0, w1 = cols, w2 = 2 * cols;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0;
        int upper = F.loopBound(cols);
        for (int c = 0; c < upper; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
            a0 = xv.fma(FloatVector.fromArray(F, panel, w0 + c), a0);
            a1 = xv.fma(FloatVector.fromArray(F, panel, w1 + c), a1);
            a2 = xv.fma(FloatVector.fromArray(F, panel, w2 + c), a2);
        }
        int o = t * rows + r;
        out[o] = finish(a0, x, x0, panel, w0, upper, cols);
        out[o + 1] = finish(a1, x, x0, panel, w1, upper, cols);
        out[o + 2] = finish(a2, x, x0, panel, w2, upper, cols);
    }

    /** Tokens t..t+3 x panel row 0 (weight row r): the leftover rows of a chunk. */
    private static void tile4x1(float[] x, int t, int cols, float[] panel, float[] out, int rows, int r) {
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int upper = F.loopBound(cols);
        for (int c = 0; c < upper; c += L) {
            FloatVector v = FloatVector.fromArray(F, panel, c);
            a0 = FloatVector.fromArray(F, x, x0 + c).fma(v, a0);
            a1 = FloatVector.fromArray(F, x, x1 + c).fma(v, a1);
            a2 = FloatVector.fromArray(F, x, x2 + c).fma(v, a2);
            a3 = FloatVector.fromArray(F, x, x3 + c).fma(v, a3);
        }
        int o = t * rows + r;
        out[o] = finish(a0, x, x0, panel, 0, upper, cols);
        out[o + rows] = finish(a1, x, x1, panel, 0, upper, cols);
        out[o + 2 * rows] = finish(a2, x, x2, panel, 0, upper, cols);
        out[o + 3 * rows] = finish(a3, x, x3, panel, 0, upper, cols);
    }
}
