package cgap.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector species and the few vector building blocks the kernels share.
 *
 * <p>Determinism: the Vector API's float {@code reduceLanes(ADD)} may sum lanes in any order, and its
 * interpreted fallback and its C2 intrinsic do differ, so a result could change once the JIT kicks in.
 * {@link #sumLanes} therefore sums with a fixed tree built from lane-wise adds, which are exact IEEE
 * operations in every execution mode. For the same reason no kernel uses the vector EXP/TANH operators.
 */
final class Vec {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Doubles of the same bit size: L/2 lanes, so one FloatVector widens into two of these. */
    static final VectorSpecies<Double> D = VectorSpecies.of(double.class, F.vectorShape());
    /** Shorts of the same lane count as F, i.e. half its bit size: one BF16/F16 load widens to one FloatVector. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));

    /**
     * Shuffles i -> i ^ step, the levels of {@link #sumLanes}'s fixed tree. Separate static finals (not an
     * array) so the JIT sees each as a constant; null where a level does not exist for this L.
     */
    private static final VectorShuffle<Float> XOR_8 = L >= 16 ? VectorShuffle.fromOp(F, i -> i ^ 8) : null;
    private static final VectorShuffle<Float> XOR_4 = L >= 8 ? VectorShuffle.fromOp(F, i -> i ^ 4) : null;
    private static final VectorShuffle<Float> XOR_2 = L >= 4 ? VectorShuffle.fromOp(F, i -> i ^ 2) : null;
    private static final VectorShuffle<Float> XOR_1 = L >= 2 ? VectorShuffle.fromOp(F, i -> i ^ 1) : null;

    private Vec() {}

    /**
     * Sum of the lanes of v in a fixed pairwise order: lane i is added to lane i + L/2, then the halves of
     * that, and so on down to one lane (the same tree in interpreter and JIT code).
     */
    static float sumLanes(FloatVector v) {
        if (L > 16) return sumLanesAnyLength(v);
        if (L >= 16) v = v.add(v.rearrange(XOR_8));
        if (L >= 8) v = v.add(v.rearrange(XOR_4));
        if (L >= 4) v = v.add(v.rearrange(XOR_2));
        if (L >= 2) v = v.add(v.rearrange(XOR_1));
        return v.lane(0);
    }

    /**
     * sumLanes of the vector at a[offset], for callers that hold only an array: a FloatVector passed to a method
     * that C2 does not inline is boxed. Once sumLanesOfEach grew (Level), C2 stopped inlining sumLanes into
     * matmulRows, and its one-by-one lane sums (AVX-512's last 8 rows of a 24-row chunk) went from about 3% to
     * 11% of a Gemma-2-2B prefill (JFR).
     */
    static float sumLanesAt(float[] a, int offset) {
        return sumLanes(FloatVector.fromArray(F, a, offset));
    }

    /** sumLanes of the vector at a[offset] plus the one other floats further on when other is not 0. */
    static float sumLanesAt(float[] a, int offset, int other) {
        return sumLanes(vectorAt(a, offset, 0, 0, other));
    }

    /*
     * sumLanesOfEach runs the tree of sumLanes on L vectors at once, a level at a time: a level with half-width h
     * takes two vectors x and y, each holding blocks of 2h partial sums of different accumulators, and adds the
     * lower half of every block to its upper half (the lane pairs of sumLanes), packing x's results and y's side
     * by side: output lane i = b*h + j (block b of h lanes, j < h) comes from x's block b/2 when b is even and from
     * y's when b is odd. After log2(L) levels lane i holds the sum of vector bitReverse(i), and one BIT_REVERSE
     * permute puts them in order. A level is built from what C2 compiles best for the vector length (see
     * Level). (Swapping the lanes as scalars after a vector store was 5-10% of a prefill GEMM: each scalar load
     * waited on the wide store.)
     */
    private static final Level LEVEL_8 = L == 16 ? new Level(8) : null, LEVEL_4 = L >= 8 ? new Level(4) : null;
    private static final Level LEVEL_2 = L >= 8 ? new Level(2) : null, LEVEL_1 = L >= 8 ? new Level(1) : null;
    private static final VectorShuffle<Float> BIT_REVERSE = VectorShuffle.fromOp(F, i -> Integer.reverse(i) >>> (32 - Integer.numberOfTrailingZeros(L)));

    /**
     * The constants of the level of half-width h. With 16 lanes: low and high, the source lanes of each output
     * lane's two addends as two-vector selectFrom indexes (>= L meaning y), one instruction each with AVX-512.
     * With 8 lanes: x + x.rearrange(i -> i ^ h) holds each of x's block sums in both halves of its block (the
     * upper half adds them in the other operand order, which is exact all the same), likewise for y, and the
     * blend takes y's in the odd blocks of h lanes. That form ran about 1.4 times as fast with AVX2 as two-vector
     * selectFrom, which C2 builds there from two permutes and a blend per half; with AVX-512 it was 3-4 times slower.
     */
    private record Level(FloatVector low, FloatVector high, VectorShuffle<Float> xor, VectorMask<Float> odd) {
        Level(int h) {
            this(selectIndexes(h, 0), selectIndexes(h, h), VectorShuffle.fromOp(F, i -> i ^ h), oddBlocks(h));
        }

        private static FloatVector selectIndexes(int h, int shift) {
            float[] index = new float[L];
            for (int i = 0; i < L; i++) {
                int block = i / h;
                index[i] = (block % 2 == 0 ? 0 : L) + (block / 2) * 2 * h + i % h + shift;
            }
            return FloatVector.fromArray(F, index, 0);
        }

        private static VectorMask<Float> oddBlocks(int h) {
            long bits = 0;
            for (int i = 0; i < L; i++) if (i / h % 2 == 1) bits |= 1L << i;
            return VectorMask.fromLong(F, bits);
        }
    }

    /** The vector at a[offset + k*stride], plus the one other floats further on when other is not 0. */
    private static FloatVector vectorAt(float[] a, int offset, int stride, int k, int other) {
        FloatVector v = FloatVector.fromArray(F, a, offset + k * stride);
        return other == 0 ? v : v.add(FloatVector.fromArray(F, a, offset + k * stride + other));
    }

    private static FloatVector level(FloatVector x, FloatVector y, Level level) {
        if (L == 16) return level.low().selectFrom(x, y).add(level.high().selectFrom(x, y));
        return x.add(x.rearrange(level.xor())).blend(y.add(y.rearrange(level.xor())), level.odd());
    }

    /**
     * sums[at + k] = sumLanes(the vector at a[offset + k*stride]) for k < L, bit for bit, at about a quarter of the
     * cost of L separate calls (15 adds and 31 permutes for 16 vectors, instead of 64 of each).
     */
    static void sumLanesOfEach(float[] a, int offset, int stride, float[] sums, int at) {
        sumLanesOfEach(a, offset, stride, 0, sums, at);
    }

    /**
     * The same for the vectors at a[offset + k*stride] plus those other floats further on, added lane-wise first
     * (other = 0: none): MatMul's two FMA chains, added as they are loaded instead of in a pass of their own.
     */
    static void sumLanesOfEach(float[] a, int offset, int stride, int other, float[] sums, int at) {
        if (L != 16 && L != 8) {
            for (int k = 0; k < L; k++) sums[at + k] = sumLanes(vectorAt(a, offset, stride, k, other));
            return;
        }
        // Depth first, a pair of inputs at a time, so that few partial results are live at once (loading all
        // the inputs first left AVX2 short of registers, and C2 spilled).
        FloatVector half0 = level(pairLevel(a, offset, stride, other, 0), pairLevel(a, offset, stride, other, 1), LEVEL_2);
        FloatVector half1 = level(pairLevel(a, offset, stride, other, 2), pairLevel(a, offset, stride, other, 3), LEVEL_2);
        FloatVector result = level(half0, half1, LEVEL_1);
        result.rearrange(BIT_REVERSE).intoArray(sums, at);
    }

    /** The level of half-width 4 over inputs 2k and 2k + 1 of the eight that enter it (see sumLanesOfEach). */
    private static FloatVector pairLevel(float[] a, int offset, int stride, int other, int k) {
        return level(levelInput(a, offset, stride, other, 2 * k), levelInput(a, offset, stride, other, 2 * k + 1), LEVEL_4);
    }

    /** Input j of the eight: vector j at L = 8; at L = 16 the first level (half-width 8) over vectors 2j and 2j + 1. */
    private static FloatVector levelInput(float[] a, int offset, int stride, int other, int j) {
        if (L == 16) return level(vectorAt(a, offset, stride, 2 * j, other), vectorAt(a, offset, stride, 2 * j + 1, other), LEVEL_8);
        return vectorAt(a, offset, stride, j, other);
    }

    /** The same tree for vectors wider than 16 floats (wide SVE). */
    private static float sumLanesAnyLength(FloatVector v) {
        for (int step = L / 2; step >= 1; step /= 2) {
            int s = step;
            v = v.add(v.rearrange(VectorShuffle.fromOp(F, i -> i ^ s)));
        }
        return v.lane(0);
    }

    // exp(x) = 2^n * e^r with n = round(x * log2(e)) and r = x - n*ln(2) in [-ln2/2, ln2/2]; e^r by the Cephes
    // expf polynomial (about 1 ulp). ln(2) is split in two (C1 exact in few bits) so r keeps its precision.
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUNDING_MAGIC = 12582912f; // 1.5 * 2^23: adding it rounds to an integer
    /** Largest x with a finite e^x in f32; above it the result is +infinity. */
    static final float EXP_MAX = 88.72283f;
    /** Below this e^x rounds to 0 even as a subnormal. */
    private static final float EXP_MIN = -104f;
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /**
     * e^x lane-wise, within about 1 ulp of Math.exp, subnormal results included; +inf above {@link #EXP_MAX},
     * NaN for NaN. Built from exactly rounded lane-wise operations only, so it gives the same bits in
     * interpreter and JIT code, and the same bits as {@link #exp(float)}.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector clamped = x.max(EXP_MIN).min(EXP_MAX);
        FloatVector rounded = clamped.mul(LOG2E).add(ROUNDING_MAGIC);
        IntVector n = rounded.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUNDING_MAGIC));
        FloatVector nf = rounded.sub(ROUNDING_MAGIC);
        FloatVector r = nf.fma(FloatVector.broadcast(F, -LN2_HI), clamped);
        r = nf.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, FloatVector.broadcast(F, P2));
        p = p.fma(r, FloatVector.broadcast(F, P3));
        p = p.fma(r, FloatVector.broadcast(F, P4));
        p = p.fma(r, FloatVector.broadcast(F, P5));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        // 2^n in two factors, each a normal float for n in [-150, 128]; the last multiply rounds once.
        IntVector half = n.lanewise(VectorOperators.ASHR, 1);
        FloatVector scale1 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector scale2 = n.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector result = y.mul(scale1).mul(scale2);
        result = result.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_MAX));
        return result.blend(x, x.test(VectorOperators.IS_NAN));
    }

    /** Scalar twin of {@link #exp(FloatVector)}: the same operations in the same order, so the same bits. */
    static float exp(float x) {
        if (Float.isNaN(x)) return x;
        if (x > EXP_MAX) return Float.POSITIVE_INFINITY;
        float clamped = Math.min(Math.max(x, EXP_MIN), EXP_MAX);
        float rounded = clamped * LOG2E + ROUNDING_MAGIC;
        int n = Float.floatToRawIntBits(rounded) - Float.floatToRawIntBits(ROUNDING_MAGIC);
        float nf = rounded - ROUNDING_MAGIC;
        float r = Math.fma(nf, -LN2_HI, clamped);
        r = Math.fma(nf, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = Math.fma(p, r * r, r) + 1f;
        int half = n >> 1;
        float scale1 = Float.intBitsToFloat((half + 127) << 23);
        float scale2 = Float.intBitsToFloat((n - half + 127) << 23);
        return y * scale1 * scale2;
    }

    /** L BF16 values at byteOffset widened to f32: bf16 is the top half of an f32, so shift left 16. */
    static FloatVector loadBF16(MemorySegment data, long byteOffset) {
        ShortVector raw = ShortVector.fromMemorySegment(S, data, byteOffset, ByteOrder.LITTLE_ENDIAN);
        IntVector widened = (IntVector) raw.convertShape(VectorOperators.S2I, I, 0);
        return widened.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /**
     * L F16 values at byteOffset widened to f32, bit-exact with {@link Float#float16ToFloat} (signed zeros,
     * subnormals, infinities, NaN payloads), using integer operations only.
     */
    static FloatVector loadF16(MemorySegment data, long byteOffset) {
        ShortVector raw = ShortVector.fromMemorySegment(S, data, byteOffset, ByteOrder.LITTLE_ENDIAN);
        IntVector h = (IntVector) raw.convertShape(VectorOperators.S2I, I, 0);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector magnitude = h.and(0x7fff);
        IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
        // Normal numbers: move the exponent from bias 15 to bias 127.
        IntVector normal = shifted.add((127 - 15) << 23);
        // Infinity and NaN: all-ones exponent, significand kept (NaN payload shifted like float16ToFloat).
        IntVector infOrNan = shifted.or(0x7f80_0000);
        // Subnormals (and zero): significand * 2^-24, exact in f32.
        IntVector subnormal = ((FloatVector) magnitude.convert(VectorOperators.I2F, 0)).mul(0x1p-24f).reinterpretAsInts();
        VectorMask<Integer> isSubnormal = magnitude.compare(VectorOperators.LT, 0x0400);
        VectorMask<Integer> isInfOrNan = magnitude.compare(VectorOperators.GE, 0x7c00);
        return normal.blend(infOrNan, isInfOrNan).blend(subnormal, isSubnormal).or(sign).reinterpretAsFloats();
    }

    static FloatVector loadF32(MemorySegment data, long byteOffset) {
        return FloatVector.fromMemorySegment(F, data, byteOffset, ByteOrder.LITTLE_ENDIAN);
    }
}
