package cgap.gap.graft;

import cgap.engine.graft.Perturbation;
import cgap.engine.graft.PerturbedMlp;
import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.MlpLayer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The random controls against hand-computed vectors (where the random direction is fixed up to sign) and their invariants. */
class PerturbationTest {

    /** An MLP computing out = a * h + b per element: enough to give host and donor known outputs. */
    static MlpLayer affine(float a, float b) {
        return (h, T, pos0, layer, hooks, out) -> {
            for (int i = 0; i < h.length; i++) out[i] = a * h[i] + b;
        };
    }

    @Test
    void randomProjectionInTwoDimensionsKeepsTheAlongPartAndFlipsOnlyTheSignOfTheRest() {
        // h = (2, 0): u = (1, 0). host_out = (1, 1), donor_out = (4, 5): d = (3, 4).
        // The only unit vectors orthogonal to u are (0, +1) and (0, -1), so d' = (3, +-4).
        float[] h = {2, 0}, host = {1, 1}, donor = {4, 5};
        double[] random = PerturbedMlp.direction(7, 3, 11, 2);
        double[] change = new double[2];
        Perturbation.RANDOM_PROJECTION.change(h, host, donor, 0, 2, random, change);
        assertArrayEquals(new double[] {3, 4 * Math.signum(random[1])}, change, 1e-12);
    }

    @Test
    void randomNormInOneDimensionIsPlusOrMinusTheSizeOfTheChange() {
        float[] h = {5}, host = {1}, donor = {-2};
        double[] random = PerturbedMlp.direction(1, 0, 0, 1);
        double[] change = new double[1];
        Perturbation.RANDOM_NORM.change(h, host, donor, 0, 1, random, change);
        assertEquals(3 * Math.signum(random[0]), change[0], 1e-12);
    }

    @Test
    void randomProjectionAlongTheInputIsKeptExactlyWhenTheChangeHasNoRest() {
        // d = (0, 6, 0) is parallel to h = (0, 3, 0): nothing is left to randomize.
        double[] change = new double[3];
        Perturbation.RANDOM_PROJECTION.change(new float[] {0, 3, 0}, new float[] {1, 1, 1}, new float[] {1, 7, 1}, 0, 3,
                PerturbedMlp.direction(5, 1, 2, 3), change);
        assertArrayEquals(new double[] {0, 6, 0}, change, 1e-12);
    }

    @Test
    void invariantsInHigherDimension() {
        int n = 16;
        float[] h = new float[n], host = new float[n], donor = new float[n];
        for (int i = 0; i < n; i++) {
            h[i] = (float) Math.sin(i + 1);
            host[i] = (float) Math.cos(3 * i);
            donor[i] = host[i] + (float) (0.5 * i - 3);
        }
        double hNorm = Math.sqrt(dot(h, h));
        double[] d = new double[n], u = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = (double) donor[i] - host[i];
            u[i] = h[i] / hNorm;
        }
        double[] random = PerturbedMlp.direction(42, 4, 9, n);

        double[] norm = new double[n];
        Perturbation.RANDOM_NORM.change(h, host, donor, 0, n, random, norm);
        assertEquals(Math.sqrt(dot(d, d)), Math.sqrt(dot(norm, norm)), 1e-9, "|d'| = |d|");

        double[] proj = new double[n];
        Perturbation.RANDOM_PROJECTION.change(h, host, donor, 0, n, random, proj);
        double along = dot(d, u);
        assertEquals(along, dot(proj, u), 1e-9, "signed projection on the MLP input kept");
        double[] restD = new double[n], restP = new double[n];
        for (int i = 0; i < n; i++) {
            restD[i] = d[i] - along * u[i];
            restP[i] = proj[i] - along * u[i];
        }
        assertEquals(Math.sqrt(dot(restD, restD)), Math.sqrt(dot(restP, restP)), 1e-9, "size of the orthogonal rest kept");
        assertFalse(Math.abs(dot(restD, restP)) > 0.99 * dot(restD, restD), "the rest's direction is replaced");
    }

    @Test
    void perturbedMlpAddsTheChangeToTheHostOutputPerPosition() {
        int d = 2, T = 3;
        float[] h = {2, 0, 0, -1, 1, 1};
        MlpLayer host = affine(1, 1), donor = affine(1, 1 + 5); // d = (5, 5) at every token
        float[] out = new float[T * d];
        new PerturbedMlp(host, donor, Perturbation.RANDOM_NORM, 9).forward(h, T, 4, 2, HookRegistry.none(), out);
        for (int t = 0; t < T; t++) {
            double[] r = PerturbedMlp.direction(9, 2, 4 + t, d);
            double rn = Math.hypot(r[0], r[1]), size = Math.hypot(5, 5);
            for (int i = 0; i < d; i++) {
                assertEquals((float) (h[t * d + i] + 1 + size * r[i] / rn), out[t * d + i], "token " + t + " dim " + i);
            }
        }
    }

    @Test
    void directionsDependOnSeedLayerAndAbsolutePositionOnly() {
        int d = 4, T = 5;
        float[] h = new float[T * d];
        for (int i = 0; i < h.length; i++) h[i] = (float) Math.cos(i);
        PerturbedMlp mlp = new PerturbedMlp(affine(2, 0), affine(-1, 0.5f), Perturbation.RANDOM_PROJECTION, 3);
        float[] prefill = new float[T * d];
        mlp.forward(h, T, 0, 1, HookRegistry.none(), prefill);
        float[] stepwise = new float[T * d];
        for (int t = 0; t < T; t++) {
            float[] one = new float[d];
            mlp.forward(Arrays.copyOfRange(h, t * d, t * d + d), 1, t, 1, HookRegistry.none(), one);
            System.arraycopy(one, 0, stepwise, t * d, d);
        }
        assertArrayEquals(prefill, stepwise, "prefill and decode draw the same directions");

        float[] otherSeed = new float[T * d], otherLayer = new float[T * d];
        new PerturbedMlp(affine(2, 0), affine(-1, 0.5f), Perturbation.RANDOM_PROJECTION, 4).forward(h, T, 0, 1, HookRegistry.none(), otherSeed);
        mlp.forward(h, T, 0, 2, HookRegistry.none(), otherLayer);
        assertFalse(Arrays.equals(prefill, otherSeed));
        assertFalse(Arrays.equals(prefill, otherLayer));
    }

    @Test
    void noChangeMeansExactlyTheHostOutput() {
        float[] h = {0.3f, -1.7f, 2.5f, 0.1f};
        float[] want = new float[4], got = new float[4];
        affine(1.5f, 0.25f).forward(h, 1, 0, 0, HookRegistry.none(), want);
        for (Perturbation p : Perturbation.values()) {
            new PerturbedMlp(affine(1.5f, 0.25f), affine(1.5f, 0.25f), p, 1).forward(h, 1, 0, 0, HookRegistry.none(), got);
            assertArrayEquals(want, got, p.label);
        }
    }

    @Test
    void zeroInputLeavesTheChangeUnconstrained() {
        double[] change = new double[2];
        Perturbation.RANDOM_PROJECTION.change(new float[] {0, 0}, new float[] {0, 0}, new float[] {3, 4}, 0, 2,
                new double[] {0.6, 0.8}, change);
        assertArrayEquals(new double[] {3, 4}, change, 1e-12);
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }
}
