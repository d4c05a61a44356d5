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

    /** The same tree for vectors wider than 16 floats (wide SVE). */
    private static float sumLanesAnyLength(FloatVector v) {
        for (int step = L / 2; step >= 1; step /= 2) {
            int s = step;
            v = v.add(v.rearrange(VectorShuffle.fromOp(F, i -> i ^ s)));
        }
        return v.lane(0);
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
