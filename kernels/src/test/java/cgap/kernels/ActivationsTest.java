package cgap.kernels;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ActivationsTest {
    @Test
    void knownValues() {
        // silu(x) = x / (1 + e^-x); gelu_tanh from the formula, evaluated in double.
        assertEquals(0.7310585786f, Activations.silu(1f), 1e-7f);
        assertEquals(-0.2689414214f, Activations.silu(-1f), 1e-7f);
        assertEquals(0f, Activations.silu(0f));
        assertEquals(0.8411919906f, Activations.geluTanh(1f), 1e-7f);
        assertEquals(-0.0454023059f, Activations.geluTanh(-2f), 1e-7f);
        assertEquals(3f, Activations.geluTanh(3f), 1e-2f);
    }

    /** Against the defining formulas evaluated in double, across the range a hidden state takes. */
    @Test
    void closeToTheFormulasInDouble() {
        for (float x = -20f; x <= 20f; x += 0.01f) {
            double silu = x / (1 + Math.exp(-x));
            double u = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
            double gelu = 0.5 * x * (1 + Math.tanh(u));
            double tolerance = 4e-7 * Math.max(1, Math.abs(x));
            assertEquals(silu, Activations.silu(x), tolerance, "silu(" + x + ")");
            assertEquals(gelu, Activations.geluTanh(x), tolerance, "geluTanh(" + x + ")");
        }
    }

    @Test
    void glusMatchTheScalarFunctionsAndMayAliasGate() {
        SplittableRandom random = new SplittableRandom(8);
        for (int n : new int[] {1, 7, 33, 100_003}) { // the last takes the parallel path
            float[] gate = TestData.gaussian(random, n), up = TestData.gaussian(random, n);
            float[] silu = new float[n], gelu = new float[n];
            for (int i = 0; i < n; i++) {
                silu[i] = Activations.silu(gate[i]) * up[i];
                gelu[i] = Activations.geluTanh(gate[i]) * up[i];
            }
            float[] out = new float[n];
            Activations.geluTanhGlu(gate, up, out, n);
            assertArrayEquals(gelu, out);
            Activations.siluGlu(gate, up, gate, n);
            assertArrayEquals(silu, gate);
        }
    }

    @Test
    void softcapKnownAnswer() {
        float[] x = {0f, 30f, -30f, 1e9f};
        Activations.softcap(x, 1, 3, 30f);
        assertEquals(0f, x[0]);
        assertEquals((float) Math.tanh(1.0) * 30f, x[1]);
        assertEquals(-(float) Math.tanh(1.0) * 30f, x[2]);
        assertEquals(30f, x[3]);
    }
}
