package cgap.gap.lens;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fused lens's inner loops over one vocabulary chunk, vectorized: f32 logits widened to float64 lanes,
 * exp by {@link #exp} (a polynomial built from exactly rounded lane-wise operations), lane sums reduced in a
 * fixed order at the end of the chunk. These run once per logit, beside a GEMM that spends 2d flops on it,
 * so they must not be scalar to keep up.
 *
 * <p>Deterministic: the Vector API's own EXP and reduceLanes(ADD) may differ between the interpreter and the
 * JIT, which would give the same call different last bits over a run's life. Here every lane operation is an
 * IEEE add, multiply, FMA, compare or bit move, identical in every execution mode. The last bits do depend on
 * the vector width (lane sums), which the contract's tolerance does not see.
 */
final class LensSums {
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    static final int N = D.length();
    /** Floats of the same lane count as D: one load widens to one DoubleVector. */
    static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));

    private LensSums() {}

    private static final double LOG2E = 1.4426950408889634;
    /** ln 2 split in a part with trailing zero bits (exact times small k) and the rest. */
    private static final double LN2_HI = 0.6931471803691238, LN2_LO = 1.9082149292705877e-10;
    /** 1.5 * 2^52: adding it rounds a double below 2^51 to an integer in the low mantissa bits. */
    private static final double ROUND = 6755399441055744.0;
    /** 1/n! for n = 13 down to 0: exp's Taylor coefficients in Horner order. */
    private static final double[] TAYLOR = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
            1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};
    /** Below this exp underflows to subnormals; the lens treats it as 0 (it is below 1e-307). */
    private static final double UNDERFLOW = -708.0;

    /**
     * exp(x) for x <= 0 lanes (0 below -708), within 2 ulp of Math.exp: x = k ln 2 + r with |r| <= ln2 / 2,
     * exp(r) by its Taylor polynomial to degree 13 (Horner, FMA), times 2^k built in the exponent bits.
     */
    static DoubleVector exp(DoubleVector x) {
        VectorMask<Double> tiny = x.compare(VectorOperators.LT, UNDERFLOW);
        x = x.max(UNDERFLOW);
        DoubleVector shifted = x.fma(LOG2E, ROUND);
        DoubleVector k = shifted.sub(ROUND);
        DoubleVector r = k.fma(DoubleVector.broadcast(D, -LN2_HI), x);
        r = k.fma(DoubleVector.broadcast(D, -LN2_LO), r);
        DoubleVector p = DoubleVector.broadcast(D, TAYLOR[0]);
        for (int i = 1; i < TAYLOR.length; i++) p = p.fma(r, DoubleVector.broadcast(D, TAYLOR[i]));
        // 2^k: k sits in the low bits of shifted's mantissa; move it to the exponent field.
        LongVector bits = (LongVector) shifted.reinterpretAsLongs();
        LongVector twoToK = bits.sub((long) Double.doubleToRawLongBits(ROUND)).add(1023L).lanewise(VectorOperators.LSHL, 52);
        DoubleVector e = p.mul(twoToK.reinterpretAsDoubles());
        return e.blend(0.0, tiny);
    }

    /** Sum of the lanes in lane order: a fixed order, unlike reduceLanes(ADD). */
    static double sum(DoubleVector v) {
        double s = 0;
        for (int i = 0; i < N; i++) s += v.lane(i);
        return s;
    }

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
            for (; v + N <= n; v += N) exp(widen(x, off + v).sub(shift)).intoArray(out, o + v);
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
                DoubleVector e = exp(d);
                vs = vs.add(e);
                vsz = e.fma(d, vsz);
            }
            s = sum(vs);
            sz = sum(vsz);
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
                DoubleVector e = exp(d);
                vs = vs.add(e);
                vsz = e.fma(d, vsz);
                vsd = e.fma(z.sub(f), vsd);
                vrev = DoubleVector.fromArray(D, pf, pOff + v).fma(f.sub(z), vrev);
            }
            s = sum(vs);
            sz = sum(vsz);
            sd = sum(vsd);
            rev = sum(vrev);
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
