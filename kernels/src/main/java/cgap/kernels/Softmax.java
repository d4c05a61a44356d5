package cgap.kernels;

/**
 * Softmax in place over x[offset, offset+len): subtract the max, exponentiate in f32 ((float) Math.exp),
 * sum those f32 exponentials in double (left to right), multiply by the f32 reciprocal of the sum.
 * Scalar on purpose: the vector EXP operator is not bit-stable between interpreter and JIT.
 */
public final class Softmax {
    private Softmax() {}

    public static void inPlace(float[] x, int offset, int len) {
        if (offset < 0 || len < 0 || (long) offset + len > x.length) {
            throw new IllegalArgumentException("Softmax: range [" + offset + ", " + offset + "+" + len + ") outside array of " + x.length);
        }
        if (len == 0) return;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = offset; i < offset + len; i++) max = Math.max(max, x[i]);
        double sum = 0;
        for (int i = offset; i < offset + len; i++) {
            float e = (float) Math.exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        float inverse = (float) (1.0 / sum);
        for (int i = offset; i < offset + len; i++) x[i] *= inverse;
    }
}
