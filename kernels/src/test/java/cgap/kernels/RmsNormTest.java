package cgap.kernels;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RmsNormTest {
    @Test
    void knownAnswer() {
        // x = [3, 4]: mean(x^2) = 12.5, with eps 0 rsqrt = 1/sqrt(12.5)
        float[] x = {3, 4};
        float inv = 1f / (float) Math.sqrt(12.5f);
        float[] out = new float[2];
        RmsNorm.apply(x, out, 1, 2, new float[] {2, 0.5f}, 0f, false);
        assertArrayEquals(new float[] {3 * inv * 2, 4 * inv * 0.5f}, out);
        RmsNorm.apply(x, out, 1, 2, new float[] {2, 0.5f}, 0f, true);
        assertArrayEquals(new float[] {3 * inv * 3, 4 * inv * 1.5f}, out);
    }

    @Test
    void vectorMatchesReferenceOnOddDims() {
        SplittableRandom random = new SplittableRandom(4);
        for (int dim : new int[] {1, 3, 8, 17, 63, 2049}) {
            for (boolean addOne : new boolean[] {false, true}) {
                int rows = 5;
                float[] x = TestData.gaussian(random, rows * dim);
                float[] weight = TestData.gaussian(random, dim);
                float[] expected = new float[rows * dim], actual = new float[rows * dim];
                RmsNorm.applyReference(x, expected, rows, dim, weight, 1e-6f, addOne);
                RmsNorm.apply(x, actual, rows, dim, weight, 1e-6f, addOne);
                TestData.assertClose(expected, actual, rows * dim, TestData.absolute(expected), 1e-5, "dim=" + dim + " addOne=" + addOne);
            }
        }
    }

    @Test
    void outMayBeTheInputArray() {
        SplittableRandom random = new SplittableRandom(5);
        int rows = 300, dim = 301; // big enough to take the parallel path
        float[] x = TestData.gaussian(random, rows * dim);
        float[] weight = TestData.gaussian(random, dim);
        float[] separate = new float[rows * dim];
        RmsNorm.apply(x, separate, rows, dim, weight, 1e-5f, false);
        RmsNorm.apply(x, x, rows, dim, weight, 1e-5f, false);
        assertArrayEquals(separate, x);
    }

    @Test
    void rejectsShortArrays() {
        assertThrows(IllegalArgumentException.class, () -> RmsNorm.apply(new float[5], new float[6], 2, 3, new float[3], 1e-6f, false));
        assertThrows(IllegalArgumentException.class, () -> RmsNorm.apply(new float[6], new float[6], 2, 3, new float[2], 1e-6f, false));
    }
}
