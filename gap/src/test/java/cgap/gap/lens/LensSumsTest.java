package cgap.gap.lens;

import jdk.incubator.vector.DoubleVector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lens's vector exp against Math.exp, and the vector sums against plain loops. */
class LensSumsTest {

    @Test
    void expIsWithinTwoUlpOfMathExp() {
        Random rnd = new Random(3);
        double[] x = new double[LensSums.N];
        double[] got = new double[LensSums.N];
        for (int trial = 0; trial < 20_000; trial++) {
            for (int i = 0; i < x.length; i++) x[i] = trial < 10 ? -i * 0.01 * trial : -rnd.nextDouble() * (trial % 2 == 0 ? 30 : 707);
            LensSums.exp(DoubleVector.fromArray(LensSums.D, x, 0)).intoArray(got, 0);
            for (int i = 0; i < x.length; i++) {
                double want = Math.exp(x[i]);
                assertTrue(Math.abs(got[i] - want) <= 2 * Math.ulp(want), "exp(" + x[i] + ") = " + got[i] + ", Math.exp " + want);
            }
        }
        double[] edge = new double[LensSums.N];
        edge[0] = 0;
        edge[1 % LensSums.N] = Double.NEGATIVE_INFINITY;
        LensSums.exp(DoubleVector.fromArray(LensSums.D, edge, 0)).intoArray(got, 0);
        assertEquals(1.0, got[0]);
        if (LensSums.N > 1) assertEquals(0.0, got[1], "exp(-inf) = 0");
    }

    @Test
    void rowSumsMatchPlainLoops() {
        Random rnd = new Random(4);
        int n = 1000 + LensSums.N - 1;  // a tail after the last whole vector
        float[] x = new float[2 * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 3);
        double[] pf = new double[n];
        for (int v = 0; v < n; v++) pf[v] = rnd.nextDouble() / n;
        float threshold = 1.5f;
        double m = LensSums.max(x, 0, n);
        double[] got = new double[5];
        LensSums.rowSums(x, 0, n, n, pf, 0, m, threshold, got);
        double s = 0, sz = 0, sd = 0, rev = 0;
        int above = 0;
        for (int v = 0; v < n; v++) {
            double z = x[v], f = x[n + v], e = Math.exp(z - m);
            s += e; sz += e * (z - m); sd += e * (z - f); rev += pf[v] * (f - z);
            if (x[v] > threshold) above++;
        }
        assertEquals(s, got[0], 1e-12 * s);
        assertEquals(sz, got[1], 1e-12 * Math.abs(sz));
        assertEquals(sd, got[2], 1e-12 * Math.abs(sd));
        assertEquals(rev, got[3], 1e-12 * Math.abs(rev) + 1e-15);
        assertEquals(above, (int) got[4]);
    }
}
