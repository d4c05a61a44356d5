package cgap.gap.lens;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fused lens's inner loops over one vocabulary chunk, vectorized: f32 logits widened to float64 lanes,
 * exp through the Vector API (SIMD on every x86/ARM JIT), lane sums reduced at the end of the chunk. These run
 * once per logit, beside a GEMM that spends 2d flops on it, so they must not be scalar to keep up.
 *
 * <p>Lane sums make the last bits depend on the vector width, which the contract's tolerance does not see;
 * {@link Readouts} is the plain scalar reference they are tested against.
 */
final class LensSums {
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    static final int N = D.length();
    /** Floats of the same lane count as D: one load widens to one DoubleVector. */
    static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));

    private LensSums() {}

    static DoubleVector widen(float[] x, int i) {
        return (DoubleVector) FloatVector.fromArray(F, x, i).convertShape(VectorOperators.F2D, D, 0);
    }

    /** Largest of x[off .. off+n). */
    static float max(float[] x, int off, int n) {
        float m = Float.NEGATIVE_INFINITY;
        int v = 0;
        {
            FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (; v + N <= n; v += N) acc = acc.max(FloatVector.fromArray(F, x, off + v));
            m = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; v < n; v++) m = Math.max(m, x[off + v]);
        return m;
    }

    /** out[o + v] = exp(x[off + v] - shift) for v < n. */
    static void expShifted(float[] x, int off, int n, double shift, double[] out, int o) {
        int v = 0;
        {
            for (; v + N <= n; v += N) widen(x, off + v).sub(shift).lanewise(VectorOperators.EXP).intoArray(out, o + v);
        }
        for (; v < n; v++) out[o + v] = Math.exp(x[off + v] - shift);
    }

    /** {sum e, sum e (z - m)} with e = exp(z - m) over z = x[off .. off+n). */
    static void expSums(float[] x, int off, int n, double m, double[] result) {
        double s = 0, sz = 0;
        int v = 0;
        {
            DoubleVector vs = DoubleVector.zero(D), vsz = vs;
            for (; v + N <= n; v += N) {
                DoubleVector d = widen(x, off + v).sub(m);
                DoubleVector e = d.lanewise(VectorOperators.EXP);
                vs = vs.add(e);
                vsz = e.fma(d, vsz);
            }
            s = vs.reduceLanes(VectorOperators.ADD);
            sz = vsz.reduceLanes(VectorOperators.ADD);
        }
        for (; v < n; v++) {
            double d = x[off + v] - m, e = Math.exp(d);
            s += e;
            sz += e * d;
        }
        result[0] = s;
        result[1] = sz;
    }

    /**
     * One readout row z = x[zOff ..] against the final row f = x[fOff ..] with final probabilities pf[pOff ..]:
     * result = {sum e, sum e (z - m), sum e (z - f), sum pf (f - z), count of z > threshold} with e = exp(z - m).
     */
    static void rowSums(float[] x, int zOff, int fOff, int n, double[] pf, int pOff, double m, float threshold, double[] result) {
        double s = 0, sz = 0, sd = 0, rev = 0;
        long above = 0;
        int v = 0;
        {
            DoubleVector vs = DoubleVector.zero(D), vsz = vs, vsd = vs, vrev = vs;
            for (; v + N <= n; v += N) {
                FloatVector zf = FloatVector.fromArray(F, x, zOff + v);
                VectorMask<Float> higher = zf.compare(VectorOperators.GT, threshold);
                above += higher.trueCount();
                DoubleVector z = (DoubleVector) zf.convertShape(VectorOperators.F2D, D, 0);
                DoubleVector f = widen(x, fOff + v);
                DoubleVector d = z.sub(m);
                DoubleVector e = d.lanewise(VectorOperators.EXP);
                vs = vs.add(e);
                vsz = e.fma(d, vsz);
                vsd = e.fma(z.sub(f), vsd);
                vrev = DoubleVector.fromArray(D, pf, pOff + v).fma(f.sub(z), vrev);
            }
            s = vs.reduceLanes(VectorOperators.ADD);
            sz = vsz.reduceLanes(VectorOperators.ADD);
            sd = vsd.reduceLanes(VectorOperators.ADD);
            rev = vrev.reduceLanes(VectorOperators.ADD);
        }
        for (; v < n; v++) {
            float zf = x[zOff + v];
            double z = zf, f = x[fOff + v];
            double d = z - m, e = Math.exp(d);
            s += e;
            sz += e * d;
            sd += e * (z - f);
            rev += pf[pOff + v] * (f - z);
            if (zf > threshold) above++;
        }
        result[0] = s;
        result[1] = sz;
        result[2] = sd;
        result[3] = rev;
        result[4] = above;
    }
}
