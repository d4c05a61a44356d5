package cgap.kernels;

import jdk.incubator.vector.FloatVector;

import static cgap.kernels.Vec.F;
import static cgap.kernels.Vec.L;

/**
 * Rotary position embedding applied in place. x is [T, heads*headStride]; head h of row t starts at
 * t*heads*headStride + h*headStride and its rotated block of rotDim elements starts headOffset further.
 * cos/sin are [T, rotDim/2] for the T positions (the caller precomputes them).
 *
 * <p>Arithmetic as HF writes it, x*cos + rotate(x)*sin with a separate multiply and add (no FMA),
 * so f32 results match torch bit for bit given the same cos/sin.
 */
public final class Rope {
    private Rope() {}

    /**
     * Rotate-half (HF default): element i < rotDim/2 pairs with i + rotDim/2.
     * first half: x*cos - x_pair*sin; second half: x*cos + x_first*sin.
     */
    public static void rotateHalf(float[] x, int T, int heads, int headStride, int headOffset, int rotDim, float[] cos, float[] sin) {
        check(x, T, heads, headStride, headOffset, rotDim, cos, sin);
        // Rows over the threads: serial, a prefill's q and k rotations took 0.5% of a two-thread Gemma-2-2B prefill.
        Parallel.forRange(T, t -> rotateHalfRow(x, t, heads, headStride, headOffset, rotDim / 2, cos, sin));
    }

    private static void rotateHalfRow(float[] x, int t, int heads, int headStride, int headOffset, int half, float[] cos, float[] sin) {
        int upper = F.loopBound(half);
        int cs = t * half;
        for (int h = 0; h < heads; h++) {
            int a = (t * heads + h) * headStride + headOffset;
            int b = a + half;
            int i = 0;
            for (; i < upper; i += L) {
                FloatVector c = FloatVector.fromArray(F, cos, cs + i);
                FloatVector s = FloatVector.fromArray(F, sin, cs + i);
                FloatVector x1 = FloatVector.fromArray(F, x, a + i);
                FloatVector x2 = FloatVector.fromArray(F, x, b + i);
                x1.mul(c).sub(x2.mul(s)).intoArray(x, a + i);
                x2.mul(c).add(x1.mul(s)).intoArray(x, b + i);
            }
            for (; i < half; i++) {
                float x1 = x[a + i], x2 = x[b + i], c = cos[cs + i], s = sin[cs + i];
                x[a + i] = x1 * c - x2 * s;
                x[b + i] = x2 * c + x1 * s;
            }
        }
    }

    /**
     * Interleaved (DeepSeek-V2 MLA, torch complex multiply): pairs (2i, 2i+1) in the rotated block,
     * x'[2i] = x[2i]*cos_i - x[2i+1]*sin_i, x'[2i+1] = x[2i+1]*cos_i + x[2i]*sin_i; the layout stays interleaved.
     */
    public static void interleaved(float[] x, int T, int heads, int headStride, int headOffset, int rotDim, float[] cos, float[] sin) {
        check(x, T, heads, headStride, headOffset, rotDim, cos, sin);
        int half = rotDim / 2;
        for (int t = 0; t < T; t++) {
            int cs = t * half;
            for (int h = 0; h < heads; h++) {
                int a = (t * heads + h) * headStride + headOffset;
                for (int i = 0; i < half; i++) {
                    float re = x[a + 2 * i], im = x[a + 2 * i + 1], c = cos[cs + i], s = sin[cs + i];
                    x[a + 2 * i] = re * c - im * s;
                    x[a + 2 * i + 1] = im * c + re * s;
                }
            }
        }
    }

    private static void check(float[] x, int T, int heads, int headStride, int headOffset, int rotDim, float[] cos, float[] sin) {
        if (T < 0 || heads < 0 || rotDim < 0 || rotDim % 2 != 0 || headOffset < 0 || headOffset + rotDim > headStride) {
            throw new IllegalArgumentException("Rope: bad layout T=" + T + " heads=" + heads + " headStride=" + headStride
                    + " headOffset=" + headOffset + " rotDim=" + rotDim + " (rotDim must be even and fit in the head)");
        }
        if ((long) T * heads * headStride > x.length) {
            throw new IllegalArgumentException("Rope: x has " + x.length + " floats, need T*heads*headStride = " + T + "*" + heads + "*" + headStride);
        }
        if ((long) T * (rotDim / 2) > cos.length || (long) T * (rotDim / 2) > sin.length) {
            throw new IllegalArgumentException("Rope: cos/sin have " + cos.length + "/" + sin.length + " floats, need T*rotDim/2 = " + T + "*" + rotDim / 2);
        }
    }
}
