package cgap.kernels;

import jdk.incubator.vector.FloatVector;

import static cgap.kernels.Vec.F;
import static cgap.kernels.Vec.L;

/**
 * Activation functions as torch evaluates them in f32, and the gated (GLU) MLP combinations.
 * SiLU and GELU use {@link Vec#exp} (vector and scalar give the same bits); the soft-cap uses scalar
 * Math.tanh. The Vector API's own EXP/TANH operators are avoided on purpose: they give different bits
 * in the interpreter and in JIT-compiled code, which would make runs nondeterministic.
 * Large GLUs are split over {@link Parallel} threads.
 */
public final class Activations {
    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    private static final float GELU_CUBIC = 0.044715f;
    /** Below this many elements a GLU runs on the calling thread. */
    private static final int PARALLEL_MIN = 1 << 15;

    private Activations() {}

    /** x * sigmoid(x), written as torch's CPU kernel: x / (1 + exp(-x)). */
    public static float silu(float x) {
        return x / (1f + Vec.exp(-x));
    }

    private static FloatVector silu(FloatVector x) {
        return x.div(Vec.exp(x.neg()).add(1f));
    }

    /**
     * torch gelu(approximate='tanh'): 0.5*x*(1+tanh(u)) with u = sqrt(2/pi)*(x+0.044715*x^3), evaluated as the
     * identical x / (1 + exp(-2u)), which needs only exp and has no cancellation for negative x.
     */
    public static float geluTanh(float x) {
        float inner = SQRT_2_OVER_PI * (x + GELU_CUBIC * (x * x * x));
        return x / (1f + Vec.exp(-2f * inner));
    }

    private static FloatVector geluTanh(FloatVector x) {
        FloatVector inner = x.mul(x).mul(x).mul(GELU_CUBIC).add(x).mul(SQRT_2_OVER_PI);
        return x.div(Vec.exp(inner.mul(-2f)).add(1f));
    }

    /** out[i] = silu(gate[i]) * up[i]; out may alias gate. */
    public static void siluGlu(float[] gate, float[] up, float[] out, int n) {
        check(gate, up, out, n);
        if (n < PARALLEL_MIN) {
            siluGluRange(gate, up, out, 0, n);
        } else {
            Parallel.forChunks(n, PARALLEL_MIN / 4, (s, e) -> siluGluRange(gate, up, out, s, e));
        }
    }

    private static void siluGluRange(float[] gate, float[] up, float[] out, int start, int end) {
        int i = start;
        for (; i + L <= end; i += L) {
            silu(FloatVector.fromArray(F, gate, i)).mul(FloatVector.fromArray(F, up, i)).intoArray(out, i);
        }
        for (; i < end; i++) out[i] = silu(gate[i]) * up[i];
    }

    /** out[i] = geluTanh(gate[i]) * up[i]; out may alias gate. */
    public static void geluTanhGlu(float[] gate, float[] up, float[] out, int n) {
        check(gate, up, out, n);
        if (n < PARALLEL_MIN) {
            geluTanhGluRange(gate, up, out, 0, n);
        } else {
            Parallel.forChunks(n, PARALLEL_MIN / 4, (s, e) -> geluTanhGluRange(gate, up, out, s, e));
        }
    }

    private static void geluTanhGluRange(float[] gate, float[] up, float[] out, int start, int end) {
        int i = start;
        for (; i + L <= end; i += L) {
            geluTanh(FloatVector.fromArray(F, gate, i)).mul(FloatVector.fromArray(F, up, i)).intoArray(out, i);
        }
        for (; i < end; i++) out[i] = geluTanh(gate[i]) * up[i];
    }

    /** x = tanh(x / cap) * cap over x[offset, offset+len), each step rounded to f32 as torch does. */
    public static void softcap(float[] x, int offset, int len, float cap) {
        if (offset < 0 || len < 0 || (long) offset + len > x.length) {
            throw new IllegalArgumentException("softcap: range [" + offset + ", " + offset + "+" + len + ") outside array of " + x.length);
        }
        if (!(cap > 0)) throw new IllegalArgumentException("softcap: cap must be > 0, got " + cap);
        for (int i = offset; i < offset + len; i++) x[i] = (float) Math.tanh(x[i] / cap) * cap;
    }

    private static void check(float[] gate, float[] up, float[] out, int n) {
        if (n < 0 || n > gate.length || n > up.length || n > out.length) {
            throw new IllegalArgumentException("GLU: n=" + n + " but gate/up/out have " + gate.length + "/" + up.length + "/" + out.length + " floats");
        }
    }
}
