package cgap.kernels;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VecTest {
    /** Distance in units in the last place between two finite floats of the same sign. */
    private static long ulps(float a, float b) {
        return Math.abs((long) Float.floatToRawIntBits(a) - Float.floatToRawIntBits(b));
    }

    @Test
    void expIsWithinTwoUlpsOfMathExpAndVectorEqualsScalar() {
        SplittableRandom random = new SplittableRandom(11);
        int n = 200_000;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (random.nextDouble() * 210 - 110); // covers overflow, subnormal and zero results
        float[] viaVector = new float[n];
        int upper = Vec.F.loopBound(n);
        for (int i = 0; i < upper; i += Vec.L) Vec.exp(FloatVector.fromArray(Vec.F, x, i)).intoArray(viaVector, i);
        for (int i = upper; i < n; i++) viaVector[i] = Vec.exp(x[i]);
        long worst = 0;
        for (int i = 0; i < n; i++) {
            float expected = (float) Math.exp(x[i]);
            float scalar = Vec.exp(x[i]);
            assertEquals(Float.floatToRawIntBits(scalar), Float.floatToRawIntBits(viaVector[i]), "vector vs scalar at x=" + x[i]);
            if (Float.isInfinite(expected)) {
                assertEquals(expected, scalar, "overflow at x=" + x[i]);
            } else {
                worst = Math.max(worst, ulps(expected, scalar));
            }
        }
        assertTrue(worst <= 2, "worst error " + worst + " ulps");
    }

    @Test
    void expSpecialValues() {
        assertEquals(1f, Vec.exp(0f));
        assertEquals(1f, Vec.exp(-0f));
        assertEquals(0f, Vec.exp(Float.NEGATIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, Vec.exp(Float.POSITIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, Vec.exp(Math.nextUp(Vec.EXP_MAX)));
        assertTrue(Float.isFinite(Vec.exp(Vec.EXP_MAX)));
        assertTrue(Float.isNaN(Vec.exp(Float.NaN)));
        assertEquals((float) Math.E, Vec.exp(1f), Math.ulp((float) Math.E));
        FloatVector special = FloatVector.fromArray(Vec.F, specials(), 0);
        float[] out = Vec.exp(special).toArray();
        float[] in = specials();
        for (int i = 0; i < Vec.L; i++) assertEquals(Float.floatToRawIntBits(Vec.exp(in[i])), Float.floatToRawIntBits(out[i]), "x=" + in[i]);
    }

    private static float[] specials() {
        float[] values = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, 0f, -0f, Vec.EXP_MAX, Math.nextUp(Vec.EXP_MAX), -87.5f};
        float[] out = new float[Vec.L];
        for (int i = 0; i < Vec.L; i++) out[i] = values[i % values.length];
        return out;
    }

    @Test
    void sumLanesIsThePairwiseTree() {
        float[] lanes = new float[Vec.L];
        for (int i = 0; i < Vec.L; i++) lanes[i] = i == 0 ? 1e8f : 1f; // order-sensitive in f32
        float[] tree = lanes.clone();
        for (int width = Vec.L / 2; width >= 1; width /= 2) {
            for (int i = 0; i < width; i++) tree[i] = tree[i] + tree[i + width];
        }
        assertEquals(tree[0], Vec.sumLanes(FloatVector.fromArray(Vec.F, lanes, 0)));
    }

    @Test
    void sumLanesOfEachGivesTheBitsOfSumLanes() {
        SplittableRandom random = new SplittableRandom(5);
        int L = Vec.L;
        int stride = L + 5;
        float[] a = new float[3 + L * stride];
        for (int trial = 0; trial < 200; trial++) {
            for (int i = 0; i < a.length; i++) {
                // Mixed magnitudes make the summation order visible in the last bits; a few specials ride along.
                a[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-6, 7)));
                if (random.nextInt(500) == 0) a[i] = random.nextBoolean() ? -0f : Float.MIN_VALUE;
            }
            float[] sums = new float[2 + L + 1];
            Arrays.fill(sums, 7f);
            Vec.sumLanesOfEach(a, 3, stride, sums, 2);
            for (int k = 0; k < L; k++) {
                float expected = Vec.sumLanes(FloatVector.fromArray(Vec.F, a, 3 + k * stride));
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(sums[2 + k]), "vector " + k + ", trial " + trial);
            }
            assertEquals(7f, sums[0]);
            assertEquals(7f, sums[1]);
            assertEquals(7f, sums[2 + L], "nothing written past the L sums");
            // With a second accumulator per vector (MatMul's other FMA chain) `other` floats on: each pair added
            // lane-wise, first one plus second, then the tree; sumLanesAt gives the same one at a time.
            int other = (L / 2) * stride, second = 3 + other;
            Vec.sumLanesOfEach(a, 3, stride / 2, other, sums, 2);
            for (int k = 0; k < L; k++) {
                FloatVector pair = FloatVector.fromArray(Vec.F, a, 3 + k * (stride / 2)).add(FloatVector.fromArray(Vec.F, a, second + k * (stride / 2)));
                float expected = Vec.sumLanes(pair);
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(sums[2 + k]), "pair " + k + ", trial " + trial);
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(Vec.sumLanesAt(a, 3 + k * (stride / 2), other)), "pair " + k + " alone");
            }
        }
    }
}
