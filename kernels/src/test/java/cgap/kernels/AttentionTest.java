package cgap.kernels;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AttentionTest {
    @Test
    void firstTokenReturnsItsOwnValue() {
        float[] q = {1, 2}, k = {3, 4}, v = {5, 6, 7};
        float[] out = new float[3];
        Attention.attend(q, 1, 0, 1, 1, 2, 3, k, v, 0.5f, 0f, 0, out);
        assertArrayEquals(v, out);
    }

    @Test
    void twoKeysKnownAnswer() {
        // Query at position 1 sees keys 0 and 1. Scores 0 and ln 3 -> weights 1/4, 3/4.
        float[] q = {0, 0, (float) Math.log(3), 0};   // T = 2, one head, qkDim 2; row 1 is the query of interest
        float[] k = {0, 0, 1, 0};
        float[] v = {4, 0, 0, 8};
        float[] out = new float[4];
        Attention.attend(q, 2, 0, 1, 1, 2, 2, k, v, 1f, 0f, 0, out);
        assertArrayEquals(new float[] {4, 0}, new float[] {out[0], out[1]});
        assertEquals(1f, out[2], 1e-6f);
        assertEquals(6f, out[3], 1e-6f);
    }

    @Test
    void vectorMatchesReferenceAcrossOptions() {
        SplittableRandom random = new SplittableRandom(9);
        // {T, pos0, nHeads, nKvHeads, qkDim, vDim, window}, softcap alternates.
        int[][] cases = {
                {1, 0, 1, 1, 1, 1, 0},
                {5, 0, 4, 2, 17, 17, 0},
                {3, 7, 6, 3, 64, 64, 0},
                {9, 4, 8, 2, 24, 40, 5},    // window, MLA-like differing dims
                {1, 20, 4, 4, 33, 31, 0},   // decode step
                {6, 2, 2, 1, 64, 64, 3},
                {70, 5, 4, 1, 64, 64, 0},   // several token blocks, group of 4
                {33, 0, 3, 3, 7, 5, 0},     // no GQA, tiny odd dims
        };
        int caseIndex = 0;
        for (int[] c : cases) {
            int T = c[0], pos0 = c[1], nHeads = c[2], nKv = c[3], qkDim = c[4], vDim = c[5], window = c[6];
            float softcap = caseIndex++ % 2 == 1 ? 2.5f : 0f;
            float[] q = TestData.gaussian(random, T * nHeads * qkDim);
            float[] k = TestData.gaussian(random, (pos0 + T) * nKv * qkDim);
            float[] v = TestData.gaussian(random, (pos0 + T) * nKv * vDim);
            float scale = (float) (1 / Math.sqrt(qkDim));
            float[] expected = new float[T * nHeads * vDim], actual = new float[T * nHeads * vDim];
            Attention.attendReference(q, T, pos0, nHeads, nKv, qkDim, vDim, k, v, scale, softcap, window, expected);
            Attention.attend(q, T, pos0, nHeads, nKv, qkDim, vDim, k, v, scale, softcap, window, actual);
            float[] ones = new float[expected.length];
            java.util.Arrays.fill(ones, 1f);
            TestData.assertClose(expected, actual, expected.length, ones, 2e-5, "case " + java.util.Arrays.toString(c));
        }
    }

    /** Prefill of T tokens and T single-token decode steps over the same cache give the same bits. */
    @Test
    void prefillEqualsTokenByTokenDecode() {
        SplittableRandom random = new SplittableRandom(10);
        int T = 37, nHeads = 6, nKv = 2, qkDim = 40, vDim = 24;
        for (int window : new int[] {0, 9}) {
            for (float softcap : new float[] {0f, 3f}) {
                float[] q = TestData.gaussian(random, T * nHeads * qkDim);
                float[] k = TestData.gaussian(random, T * nKv * qkDim);
                float[] v = TestData.gaussian(random, T * nKv * vDim);
                float[] prefill = new float[T * nHeads * vDim];
                Attention.attend(q, T, 0, nHeads, nKv, qkDim, vDim, k, v, 0.2f, softcap, window, prefill);
                for (int t = 0; t < T; t++) {
                    float[] step = new float[nHeads * vDim];
                    float[] qt = java.util.Arrays.copyOfRange(q, t * nHeads * qkDim, (t + 1) * nHeads * qkDim);
                    Attention.attend(qt, 1, t, nHeads, nKv, qkDim, vDim, k, v, 0.2f, softcap, window, step);
                    for (int i = 0; i < step.length; i++) {
                        assertEquals(prefill[t * nHeads * vDim + i], step[i], 0f, "window=" + window + " softcap=" + softcap + " t=" + t + " i=" + i);
                    }
                }
            }
        }
    }

    @Test
    void rejectsBadShapes() {
        assertThrows(IllegalArgumentException.class, () ->
                Attention.attend(new float[6], 1, 0, 3, 2, 2, 2, new float[4], new float[4], 1f, 0f, 0, new float[6]));
        assertThrows(IllegalArgumentException.class, () ->
                Attention.attend(new float[2], 1, 1, 1, 1, 2, 2, new float[2], new float[4], 1f, 0f, 0, new float[2]));
    }
}
