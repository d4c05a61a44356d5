package cgap.kernels;

import jdk.incubator.vector.FloatVector;

import static cgap.kernels.Vec.F;
import static cgap.kernels.Vec.L;

/**
 * RMSNorm over {@code rows} contiguous rows of length dim:
 * out = x * rsqrt(mean(x^2) + eps) * (addOne ? 1 + w : w), all in float32 as HF computes it
 * (Llama: w * (x * rsqrt); Gemma: (x * rsqrt) * (1 + w)). out may be the same array as x.
 */
public final class RmsNorm {
    private RmsNorm() {}

    public static void apply(float[] x, float[] out, int rows, int dim, float[] weight, float eps, boolean addOne) {
        check(x, out, rows, dim, weight);
        float[] scale = scaleOf(weight, dim, addOne);
        if ((long) rows * dim >= 1 << 16) {
            Parallel.forRange(rows, row -> applyRow(x, out, row * dim, dim, scale, eps));
        } else {
            for (int row = 0; row < rows; row++) applyRow(x, out, row * dim, dim, scale, eps);
        }
    }

    public static void applyReference(float[] x, float[] out, int rows, int dim, float[] weight, float eps, boolean addOne) {
        check(x, out, rows, dim, weight);
        for (int row = 0; row < rows; row++) {
            int base = row * dim;
            float sumSquares = 0f;
            for (int i = 0; i < dim; i++) sumSquares += x[base + i] * x[base + i];
            float inverseRms = inverseRms(sumSquares, dim, eps);
            for (int i = 0; i < dim; i++) {
                float w = addOne ? 1f + weight[i] : weight[i];
                out[base + i] = x[base + i] * inverseRms * w;
            }
        }
    }

    /** rsqrt as torch computes it in f32: 1 / sqrt(mean + eps), each step rounded to float. */
    private static float inverseRms(float sumSquares, int dim, float eps) {
        float mean = sumSquares / dim;
        return 1f / (float) Math.sqrt(mean + eps);
    }

    private static void applyRow(float[] x, float[] out, int base, int dim, float[] scale, float eps) {
        int upper = F.loopBound(dim);
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, base + i);
            acc = v.fma(v, acc);
        }
        float sumSquares = Vec.sumLanes(acc);
        for (int i = upper; i < dim; i++) sumSquares = Math.fma(x[base + i], x[base + i], sumSquares);
        float inverseRms = inverseRms(sumSquares, dim, eps);
        for (int i = 0; i < upper; i += L) {
            FloatVector.fromArray(F, x, base + i).mul(inverseRms).mul(FloatVector.fromArray(F, scale, i)).intoArray(out, base + i);
        }
        for (int i = upper; i < dim; i++) out[base + i] = x[base + i] * inverseRms * scale[i];
    }

    private static float[] scaleOf(float[] weight, int dim, boolean addOne) {
        if (!addOne) return weight;
        float[] scale = new float[dim];
        for (int i = 0; i < dim; i++) scale[i] = 1f + weight[i];
        return scale;
    }

    private static void check(float[] x, float[] out, int rows, int dim, float[] weight) {
        if (rows < 0 || dim <= 0) throw new IllegalArgumentException("RmsNorm: bad shape rows=" + rows + " dim=" + dim);
        if ((long) rows * dim > x.length || (long) rows * dim > out.length) {
            throw new IllegalArgumentException("RmsNorm: x/out have " + x.length + "/" + out.length + " floats, need rows*dim = " + rows + "*" + dim);
        }
        if (weight.length < dim) throw new IllegalArgumentException("RmsNorm: weight has " + weight.length + " floats, need dim = " + dim);
    }
}
