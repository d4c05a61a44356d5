package cgap.kernels;

import jdk.incubator.vector.FloatVector;

import static cgap.kernels.Vec.F;
import static cgap.kernels.Vec.L;

/**
 * Softmax in place over x[offset, offset+len): subtract the max, exponentiate in f32 with {@link Vec#exp}
 * (within 2 ulp of Math.exp, bit-stable between interpreter and JIT), sum those f32 values in double
 * left to right, multiply by the f32 reciprocal of the sum.
 */
public final class Softmax {
    private Softmax() {}

    public static void inPlace(float[] x, int offset, int len) {
        if (offset < 0 || len < 0 || (long) offset + len > x.length) {
            throw new IllegalArgumentException("Softmax: range [" + offset + ", " + offset + "+" + len + ") outside array of " + x.length);
        }
        if (len == 0) return;
        int end = offset + len;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = offset; i < end; i++) max = Math.max(max, x[i]);
        int upper = offset + F.loopBound(len);
        int i = offset;
        for (; i < upper; i += L) Vec.exp(FloatVector.fromArray(F, x, i).sub(max)).intoArray(x, i);
        for (; i < end; i++) x[i] = Vec.exp(x[i] - max);
        double sum = 0;
        for (i = offset; i < end; i++) sum += x[i];
        float inverse = (float) (1.0 / sum);
        for (i = offset; i < upper; i += L) FloatVector.fromArray(F, x, i).mul(inverse).intoArray(x, i);
        for (; i < end; i++) x[i] *= inverse;
    }
}
