package cgap.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Runs every kernel path on small inputs until the JIT has compiled it. Interpreted Vector API code is
 * thousands of times slower than compiled code, and a few calls at model sizes do not reach the compiler
 * soon: without this, the first forward pass of a model can take minutes. Call once at start-up (a few
 * seconds); results are unaffected either way.
 */
public final class JitWarmup {
    private JitWarmup() {}

    public static void run() {
        try (Arena arena = Arena.ofShared()) {
            // Small shapes that still cross K blocks, row panels and column tails, with T over whole and partial
            // token tiles. C2 compiles a method after about 600 calls and 15000 loop trips, hence the call counts.
            for (DType dtype : DType.values()) {
                warmMatMul(arena, dtype, 26, MatMul.K_BLOCK + 18, 17, dtype == DType.BF16 ? 600 : 200);
            }
            // BF16 decode: its multi-row kernel, and (the last chunk's 3 rows) its one-row kernel, on an odd number of
            // 8-lane vectors so that the two-chain kernels' tails run too. Without its own warm-up, decode with AVX2
            // ran C1 code for seconds.
            warmMatMul(arena, DType.BF16, 67, 2 * MatMul.K_BLOCK + 8, 1, 800);
        }
        int T = 9, heads = 4, kvHeads = 2, dim = 64, width = heads * dim;
        float[] q = new float[T * width], k = new float[(T + 8) * kvHeads * dim], v = new float[(T + 8) * kvHeads * dim];
        float[] attention = new float[T * width], weight = new float[width], cos = new float[T * dim / 2], sin = new float[T * dim / 2];
        float[] gate = new float[T * width + 5], up = new float[T * width + 5];
        for (int i = 0; i < 1_000; i++) {
            int tokens = 1 + i % T;
            Attention.attend(q, tokens, i % 8, heads, kvHeads, dim, dim, k, v, 0.125f, i % 2 == 0 ? 0f : 50f, i % 3 == 0 ? 4 : 0, attention);
            RmsNorm.apply(q, q, tokens, width, weight, 1e-6f, i % 2 == 0);
            Rope.rotateHalf(q, tokens, heads, dim, 0, dim, cos, sin);
            Rope.interleaved(q, tokens, heads, dim, 0, dim, cos, sin);
            Softmax.inPlace(gate, 0, gate.length);
            Activations.siluGlu(gate, up, gate, gate.length);
            Activations.geluTanhGlu(gate, up, gate, gate.length);
        }
    }

    private static void warmMatMul(Arena arena, DType dtype, int rows, int cols, int maxTokens, int calls) {
        WeightMatrix w = new WeightMatrix(filled(arena, (long) rows * cols * dtype.bytes), dtype, rows, cols);
        float[] x = new float[maxTokens * cols], out = new float[maxTokens * rows];
        for (int i = 0; i < calls; i++) MatMul.matmul(x, 1 + i % maxTokens, w, out);
    }

    /** Off-heap like real weights, so the compiled code is profiled on the same kind of segment; small values. */
    private static MemorySegment filled(Arena arena, long bytes) {
        MemorySegment segment = arena.allocate(bytes, 64);
        for (long at = 0; at + 2 <= bytes; at += 2) segment.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, (short) 0x1c00);
        return segment;
    }
}
