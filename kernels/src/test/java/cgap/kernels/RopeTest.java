package cgap.kernels;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class RopeTest {
    @Test
    void rotateHalfKnownAnswer() {
        // One head of 4: pairs (0,2) and (1,3). Angle 90 degrees for pair 0, 0 degrees for pair 1.
        float[] x = {1, 2, 3, 4};
        Rope.rotateHalf(x, 1, 1, 4, 0, 4, new float[] {0, 1}, new float[] {1, 0});
        // pair 0: (1, 3) -> (1*0 - 3*1, 3*0 + 1*1) = (-3, 1); pair 1 unchanged.
        assertArrayEquals(new float[] {-3, 2, 1, 4}, x);
    }

    @Test
    void interleavedKnownAnswer() {
        float[] x = {1, 2, 3, 4};
        Rope.interleaved(x, 1, 1, 4, 0, 4, new float[] {0, 1}, new float[] {1, 0});
        // pair (0,1): (1, 2) -> (1*0 - 2*1, 2*0 + 1*1) = (-2, 1); pair (2,3) unchanged.
        assertArrayEquals(new float[] {-2, 1, 3, 4}, x);
    }

    /** HF's formula written out: q*cos_full + rotate_half(q)*sin_full, with cos_full = cat(cos, cos). */
    @Test
    void rotateHalfMatchesHfFormulaBitForBitWithPartialRotaryAndOffsets() {
        SplittableRandom random = new SplittableRandom(6);
        int T = 3, heads = 5, headStride = 2 * 37 + 9, headOffset = 4, rotDim = 2 * 37;
        int half = rotDim / 2;
        float[] x = TestData.gaussian(random, T * heads * headStride);
        float[] cos = TestData.gaussian(random, T * half), sin = TestData.gaussian(random, T * half);
        float[] expected = x.clone();
        for (int t = 0; t < T; t++) {
            for (int h = 0; h < heads; h++) {
                int base = (t * heads + h) * headStride + headOffset;
                for (int i = 0; i < rotDim; i++) {
                    float c = cos[t * half + i % half], s = sin[t * half + i % half];
                    float rotated = i < half ? -x[base + i + half] : x[base + i - half];
                    expected[base + i] = x[base + i] * c + rotated * s;
                }
            }
        }
        Rope.rotateHalf(x, T, heads, headStride, headOffset, rotDim, cos, sin);
        assertArrayEquals(expected, x);
    }

    @Test
    void interleavedIsAComplexMultiplyPerPairAndLeavesTheRestAlone() {
        SplittableRandom random = new SplittableRandom(7);
        int T = 2, heads = 3, headStride = 24, headOffset = 16, rotDim = 8;
        float[] x = TestData.gaussian(random, T * heads * headStride);
        float[] cos = TestData.gaussian(random, T * 4), sin = TestData.gaussian(random, T * 4);
        float[] original = x.clone();
        Rope.interleaved(x, T, heads, headStride, headOffset, rotDim, cos, sin);
        for (int t = 0; t < T; t++) {
            for (int h = 0; h < heads; h++) {
                int head = (t * heads + h) * headStride;
                for (int i = 0; i < headStride; i++) {
                    int k = i - headOffset;
                    if (k < 0) {
                        assertEquals(original[head + i], x[head + i]);
                        continue;
                    }
                    float c = cos[t * 4 + k / 2], s = sin[t * 4 + k / 2];
                    float re = original[head + headOffset + (k & ~1)], im = original[head + headOffset + (k | 1)];
                    assertEquals(k % 2 == 0 ? re * c - im * s : im * c + re * s, x[head + i], "t=" + t + " h=" + h + " i=" + i);
                }
            }
        }
    }
}
