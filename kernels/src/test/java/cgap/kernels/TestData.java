package cgap.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Random inputs and tolerant comparisons shared by the kernel tests. */
final class TestData {
    private TestData() {}

    static float[] gaussian(SplittableRandom random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            // Box-Muller: a plain normal sample without java.util.Random.
            double u = 1 - random.nextDouble(), v = random.nextDouble();
            values[i] = (float) (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
        }
        return values;
    }

    /**
     * A [rows, cols] matrix stored as dtype in a segment that starts 1 byte into an allocation (unaligned).
     * The values are rounded to the dtype, so decoding gives back exactly what was encoded.
     */
    static WeightMatrix matrix(Arena arena, DType dtype, float[] values, int rows, int cols) {
        MemorySegment block = arena.allocate((long) rows * cols * dtype.bytes + 1, 64).asSlice(1);
        ValueLayout.OfShort shortLe = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        ValueLayout.OfFloat floatLe = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < rows * cols; i++) {
            long at = (long) i * dtype.bytes;
            switch (dtype) {
                case F32 -> block.set(floatLe, at, values[i]);
                case BF16 -> block.set(shortLe, at, toBf16(values[i]));
                case F16 -> block.set(shortLe, at, Float.floatToFloat16(values[i]));
            }
        }
        return new WeightMatrix(block, dtype, rows, cols);
    }

    /** f32 -> bf16 with round-to-nearest-even (NaN not needed in the tests). */
    static short toBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** |actual - expected| <= tolerance * scale[i] + 1e-30 for each i, with a message naming the index. */
    static void assertClose(float[] expected, float[] actual, int n, float[] scale, double tolerance, String what) {
        for (int i = 0; i < n; i++) {
            double allowed = tolerance * scale[i] + 1e-30;
            double error = Math.abs((double) actual[i] - expected[i]);
            int index = i;
            assertTrue(error <= allowed, () -> what + ": index " + index + " expected " + expected[index]
                    + " got " + actual[index] + " (error " + error + " > " + allowed + ")");
        }
    }

    static float[] absolute(float[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) out[i] = Math.abs(values[i]);
        return out;
    }
}
