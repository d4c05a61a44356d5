package cgap.kernels;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MatMulTest {
    private static final int[] ROWS = {1, 2, 3, 4, 7, 37};
    private static final int[] COLS = {1, 5, 16, 33, 301};
    private static final int[] TOKENS = {1, 2, 3, 4, 5, 9};

    @Test
    void vectorMatchesReferenceOnOddShapesForEveryDtype() {
        SplittableRandom random = new SplittableRandom(1);
        try (Arena arena = Arena.ofShared()) {
            for (DType dtype : DType.values()) {
                for (int rows : ROWS) {
                    for (int cols : COLS) {
                        WeightMatrix w = TestData.matrix(arena, dtype, TestData.gaussian(random, rows * cols), rows, cols);
                        for (int T : TOKENS) {
                            float[] x = TestData.gaussian(random, T * cols);
                            float[] expected = new float[T * rows], actual = new float[T * rows];
                            MatMul.matmulReference(x, T, w, expected);
                            MatMul.matmul(x, T, w, actual);
                            TestData.assertClose(expected, actual, T * rows, magnitudes(x, T, w), 1e-5,
                                    dtype + " rows=" + rows + " cols=" + cols + " T=" + T);
                        }
                    }
                }
            }
        }
    }

    @Test
    void knownAnswer() {
        // W = [[1, 2, 3], [4, 5, 6]], x = [[1, 0, -1], [0.5, 0.5, 0.5]]
        WeightMatrix w = WeightMatrix.ofFloats(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        float[] x = {1, 0, -1, 0.5f, 0.5f, 0.5f};
        float[] out = new float[4];
        MatMul.matmul(x, 2, w, out);
        assertArrayEquals(new float[] {-2, -2, 3, 7.5f}, out);
    }

    /** Shapes that cross the K blocks (MatMul.K_BLOCK columns), widening spans and token blocks (MatMul.TOKEN_BLOCK tokens). */
    @Test
    void blockedShapesMatchReference() {
        SplittableRandom random = new SplittableRandom(2);
        int[][] shapes = {{301, 1027, 11}, {37, 2 * MatMul.K_BLOCK + 500, 7}, {5, 40, MatMul.TOKEN_BLOCK + 3},
                {13, 1100, MatMul.TOKEN_BLOCK * 2 + 1}, {23, MatMul.WIDEN_SPAN + MatMul.K_BLOCK + 29, 37}};
        try (Arena arena = Arena.ofShared()) {
            for (int[] shape : shapes) {
                int rows = shape[0], cols = shape[1], T = shape[2];
                WeightMatrix w = TestData.matrix(arena, DType.BF16, TestData.gaussian(random, rows * cols), rows, cols);
                float[] x = TestData.gaussian(random, T * cols);
                float[] expected = new float[T * rows], actual = new float[T * rows];
                MatMul.matmulReference(x, T, w, expected);
                MatMul.matmul(x, T, w, actual);
                TestData.assertClose(expected, actual, T * rows, magnitudes(x, T, w), 1e-5, "bf16 " + rows + "x" + cols + " T=" + T);
            }
        }
    }

    /**
     * The build runs this class a second time with AVX2 only (kernels/pom.xml), where vectors have 8 lanes and
     * every output takes two FMA chains: this checks that run really got the vector length it asked for.
     */
    @Test
    void vectorLengthIsTheOneThisRunAskedFor() {
        String expected = System.getProperty("cgap.test.expectLanes");
        if (expected != null) {
            assertEquals(Integer.parseInt(expected), Vec.L, "float lanes");
            assertEquals(Vec.L >= 16 ? 1 : 2, MatMul.CHAINS, "FMA chains per output");
        }
    }

    /** K blocks: AVX2 splits a row into as few even blocks as K_BLOCK allows; AVX-512 keeps whole K_BLOCKs. */
    @Test
    void kBlocksSplitRowsEvenlyWithAvx2() {
        if (Vec.L >= 16) {
            assertEquals(1024, MatMul.kBlockLength(2304));
            assertEquals(1024, MatMul.kBlockLength(9216));
            return;
        }
        assertEquals(2304, MatMul.kBlockLength(2304), "Gemma-2-2B hidden size: one block");
        assertEquals(2304, MatMul.kBlockLength(9216), "four blocks");
        assertEquals(2048, MatMul.kBlockLength(8192), "four blocks");
        assertEquals(1504, MatMul.kBlockLength(3000), "two blocks, not 2560 + 440; the last 1496 columns");
        assertEquals(16, MatMul.kBlockLength(8), "one short block, a whole chain step");
    }

    /**
     * The fixed summation order makes a token's output independent of how many tokens share the call, and
     * of which path runs it (BF16 decode streams rows directly: four at a time, a quarter of a chunk apart, and a
     * chunk's last rows one by one).
     */
    @Test
    void eachTokenGetsTheSameBitsAloneOrInABatch() {
        SplittableRandom random = new SplittableRandom(3);
        // The third shape has whole and partial groups of L tokens for the batched lane sums, and crosses a widening
        // span; the last has decode chunks of hundreds of rows, ending in a partial one. Column counts leave an odd
        // number of whole 8-lane vectors, so the two-chain order (AVX2 run) has a vector left over for chain 0. The
        // fourth spans two token blocks, the first of which (AVX2's 3-token tiles) ends in tokens outside a tile.
        int[][] shapes = {{29, MatMul.K_BLOCK + 77, 7}, {19, 8192 + 41, 3}, {23, MatMul.WIDEN_SPAN + MatMul.K_BLOCK + 29, 37},
                {7, 88, MatMul.TOKEN_BLOCK + 11}, {2001, 40, 2}};
        try (Arena arena = Arena.ofShared()) {
            for (DType dtype : DType.values()) {
                for (int[] shape : shapes) {
                    int rows = shape[0], cols = shape[1], T = shape[2];
                    WeightMatrix w = TestData.matrix(arena, dtype, TestData.gaussian(random, rows * cols), rows, cols);
                    float[] x = TestData.gaussian(random, T * cols);
                    float[] batch = new float[T * rows];
                    MatMul.matmul(x, T, w, batch);
                    float[] expected = new float[T * rows];
                    MatMul.matmulReference(x, T, w, expected);
                    TestData.assertClose(expected, batch, T * rows, magnitudes(x, T, w), 1e-5, dtype + " " + rows + "x" + cols);
                    for (int t = 0; t < T; t++) {
                        float[] single = new float[rows];
                        MatMul.matmul(java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols), 1, w, single);
                        for (int r = 0; r < rows; r++) {
                            assertEquals(Float.floatToRawIntBits(batch[t * rows + r]), Float.floatToRawIntBits(single[r]),
                                    dtype + " " + rows + "x" + cols + " t=" + t + " r=" + r);
                        }
                    }
                }
            }
        }
    }

    /** Several matrices in one job give each the bits of its own call, for decode (T = 1) and the tiled path, mixed dtypes included. */
    @Test
    void matmulEachGivesTheBitsOfSeparateCalls() {
        SplittableRandom random = new SplittableRandom(4);
        int cols = 4096 + 33;
        try (Arena arena = Arena.ofShared()) {
            // Row counts that leave partial chunks, so matrices meet mid-chunk-numbering.
            WeightMatrix[] bf16 = {TestData.matrix(arena, DType.BF16, TestData.gaussian(random, 70 * cols), 70, cols),
                    TestData.matrix(arena, DType.BF16, TestData.gaussian(random, 9 * cols), 9, cols),
                    TestData.matrix(arena, DType.BF16, TestData.gaussian(random, 131 * cols), 131, cols)};
            WeightMatrix[] mixed = {bf16[1], TestData.matrix(arena, DType.F16, TestData.gaussian(random, 25 * cols), 25, cols),
                    TestData.matrix(arena, DType.F32, TestData.gaussian(random, 3 * cols), 3, cols)};
            for (WeightMatrix[] ws : new WeightMatrix[][] {bf16, mixed}) {
                for (int T : new int[] {1, 11}) {
                    float[] x = TestData.gaussian(random, T * cols);
                    float[][] joint = new float[ws.length][];
                    for (int i = 0; i < ws.length; i++) joint[i] = new float[T * ws[i].rows()];
                    MatMul.matmulEach(x, T, ws, joint);
                    for (int i = 0; i < ws.length; i++) {
                        float[] alone = new float[T * ws[i].rows()];
                        MatMul.matmul(x, T, ws[i], alone);
                        for (int j = 0; j < alone.length; j++) {
                            assertEquals(Float.floatToRawIntBits(alone[j]), Float.floatToRawIntBits(joint[i][j]),
                                    ws[i].dtype() + " matrix " + i + " T=" + T + " output " + j);
                        }
                    }
                }
            }
        }
    }

    @Test
    void matmulEachRejectsMismatchedMatricesAndSharedOutputs() {
        WeightMatrix a = WeightMatrix.ofFloats(new float[6], 2, 3), b = WeightMatrix.ofFloats(new float[8], 2, 4);
        float[] x = new float[4], out = new float[2];
        IllegalArgumentException columns = assertThrows(IllegalArgumentException.class,
                () -> MatMul.matmulEach(x, 1, new WeightMatrix[] {a, b}, new float[][] {new float[2], new float[2]}));
        assertEquals("matmulEach: matrix 1 has 4 columns, matrix 0 has 3", columns.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MatMul.matmulEach(x, 1, new WeightMatrix[] {a, a}, new float[][] {out, out}));
        assertThrows(IllegalArgumentException.class, () -> MatMul.matmulEach(x, 1, new WeightMatrix[] {a}, new float[][] {out, out}));
    }

    /** About 4 MiB of weights per decode chunk, fewer rows for small matrices, always a multiple of 16 within the bounds. */
    @Test
    void decodeChunkRows() {
        int threads = Parallel.threads();
        WeightMatrix unembedding = new WeightMatrix(MemorySegment.NULL.reinterpret(128256L * 2048 * 2), DType.BF16, 128256, 2048);
        assertEquals(MatMul.DECODE_MAX_CHUNK_ROWS, MatMul.decodeChunkRows(unembedding));
        WeightMatrix down = new WeightMatrix(MemorySegment.NULL.reinterpret(2048L * 8192 * 2), DType.BF16, 2048, 8192);
        assertEquals(Math.min(256, 2048 / (4 * threads) / 16 * 16), MatMul.decodeChunkRows(down));
        WeightMatrix tiny = new WeightMatrix(MemorySegment.NULL.reinterpret(5L * 64 * 2), DType.BF16, 5, 64);
        assertEquals(MatMul.DECODE_MIN_CHUNK_ROWS, MatMul.decodeChunkRows(tiny));
    }

    @Test
    void rejectsShortArraysAndAliasing() {
        WeightMatrix w = WeightMatrix.ofFloats(new float[6], 2, 3);
        assertThrows(IllegalArgumentException.class, () -> MatMul.matmul(new float[5], 2, w, new float[4]));
        assertThrows(IllegalArgumentException.class, () -> MatMul.matmul(new float[6], 2, w, new float[3]));
        float[] both = new float[6];
        assertThrows(IllegalArgumentException.class, () -> MatMul.matmul(both, 2, w, both));
    }

    /** sum_c |x[t,c] * W[r,c]|: the scale of the rounding error each output can carry. */
    private static float[] magnitudes(float[] x, int T, WeightMatrix w) {
        float[] scale = new float[T * w.rows()];
        MatMul.matmulReference(TestData.absolute(x), T, absolute(w), scale);
        return scale;
    }

    private static WeightMatrix absolute(WeightMatrix w) {
        float[] values = new float[w.rows() * w.cols()];
        for (int r = 0; r < w.rows(); r++) for (int c = 0; c < w.cols(); c++) values[r * w.cols() + c] = Math.abs(w.get(r, c));
        return WeightMatrix.ofFloats(values, w.rows(), w.cols());
    }
}
